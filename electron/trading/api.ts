import type Decimal from 'decimal.js';
import type { Handlers } from '../api/dispatch';
import type { MarketRecord } from '../exchanges/markets';
import type { Logger } from '../log';
import type { OrderService, Validation } from './orders';
import type { PositionView, TradingReads } from './portfolio';

type TradingMethod =
  | 'trading.capabilities' | 'trading.markets' | 'portfolio.get' | 'tickers.get' | 'orders.validate' | 'orders.place' | 'orders.cancel' | 'orders.modify'
  | 'orders.open' | 'orders.history' | 'orders.journal' | 'orders.fills' | 'positions.list';

const s = (d: Decimal | null): string | null => (d === null ? null : d.toFixed());

function validationDto(v: Validation, market: MarketRecord | null) {
  return {
    ok: v.ok,
    symbol: v.symbol,
    side: v.side,
    type: v.type,
    base: v.base,
    quote: v.quote,
    amount: s(v.amount),
    price: s(v.price),
    referencePrice: s(v.referencePrice),
    cost: s(v.cost),
    problems: v.problems.map((p) => ({ field: p.field, code: p.code, message: p.message, key: p.key, params: p.params })),
    checks: v.checks,
    balance: v.balance ? { asset: v.balance.asset, free: v.balance.free.toFixed(), required: v.balance.required.toFixed() } : null,
    market,
    validUntil: v.validUntil ? v.validUntil.toISOString() : null,
  };
}

function positionDto(p: PositionView) {
  return {
    brokerId: p.brokerId,
    exchange: p.exchange,
    symbol: p.symbol,
    base: p.base,
    quote: p.quote,
    quantity: p.quantity.toFixed(),
    averageEntry: s(p.averageEntry),
    realisedPnl: p.realisedPnl.toFixed(),
    unrealisedPnl: s(p.unrealisedPnl),
    price: s(p.price),
    fills: p.fills,
    sandbox: p.sandbox,
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** Handlers of the trading contract (shared/contract/trading.ts). Manual orders have source `manual`. */
export function tradingHandlers(d: { orders: OrderService; reads: TradingReads; log: Logger }): Pick<Handlers, TradingMethod> {
  return {
    'trading.capabilities': ({ brokerId }, { profile }) => d.reads.capabilities(profile.id, brokerId),
    'trading.markets': (q, { profile }) => d.reads.markets(profile.id, q.brokerId, q),
    'portfolio.get': async ({ brokerId }, { profile }) => {
      const p = await d.reads.portfolio(profile.id, brokerId);
      return {
        ...p,
        assets: p.assets.map((a) => ({ asset: a.asset, free: a.free.toFixed(), used: a.used.toFixed(), total: a.total.toFixed(), price: s(a.price), value: s(a.value) })),
        total: p.total.toFixed(),
        fetchedAt: p.fetchedAt.toISOString(),
      };
    },
    'tickers.get': async ({ brokerId, symbol }, { profile }) => {
      const t = await d.orders.ticker(profile.id, brokerId, symbol);
      return { symbol: t.symbol, last: s(t.last), bid: s(t.bid), ask: s(t.ask), timestamp: t.timestamp === null ? null : new Date(t.timestamp).toISOString() };
    },
    'orders.validate': async ({ quick, ...req }, { profile }) => {
      const v = await d.orders.validate(profile.id, req, { quick });
      return validationDto(v, v.market);
    },
    'orders.place': async (req, { profile }) => d.orders.toDto(await d.orders.place(profile.id, { ...req, source: 'manual' })),
    'orders.cancel': async ({ orderId }, { profile }) => d.orders.toDto(await d.orders.cancel(profile.id, orderId)),
    'orders.modify': async (input, { profile }) => {
      const r = await d.orders.modify(profile.id, input);
      return { order: d.orders.toDto(r.order), replaced: d.orders.toDto(r.replaced), method: r.method };
    },
    'orders.open': async ({ brokerId }, { profile }) => {
      await d.orders.sync(profile.id, brokerId);
      return (await d.orders.open(profile.id, brokerId)).map((r) => d.orders.toDto(r));
    },
    'orders.history': async ({ brokerId, days }, { profile }) => {
      await d.orders.sync(profile.id, brokerId).catch((e: unknown) => d.log.warn({ broker: brokerId, err: (e as Error).message }, 'sync before history failed; showing the journal'));
      return (await d.orders.history(profile.id, brokerId, days)).map((r) => d.orders.toDto(r));
    },
    'orders.journal': async (input, { profile }) => (await d.orders.journal(profile.id, input?.filters ?? { limit: 200 })).map((r) => d.orders.toDto(r)),
    'orders.fills': ({ orderId }, { profile }) => d.orders.fills(profile.id, orderId),
    'positions.list': async (input, { profile }) => (await d.reads.positions(profile.id, input?.brokerId)).map(positionDto),
  };
}
