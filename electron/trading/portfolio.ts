import Decimal from 'decimal.js';
import type { Exchange, Ticker } from 'ccxt';
import type { Database } from '../db/database';
import type { ExchangeGateway } from '../exchanges/gateway';
import { marketRecord, type MarketRecord } from '../exchanges/markets';
import { worded } from '../exchanges/texts';
import type { Params } from '../../shared/i18n';
import type { Logger } from '../log';
import { dec, readExchange, sleep, type ReadOptions } from './ccxt-io';
import { currentSandbox, type BrokerAccess } from './mode';
import { unrealisedPnl } from './positions';

/**
 * What the trading page reads besides orders: the broker's portfolio valued in USDT, its markets,
 * its exchange's capabilities, and positions with unrealised P&L at the current price.
 */

export const VALUATION = 'USDT';
const D = Decimal.clone({ precision: 40 });

export interface PortfolioAsset {
  asset: string;
  free: Decimal;
  used: Decimal;
  total: Decimal;
  price: Decimal | null;
  value: Decimal | null;
}

export interface Capabilities {
  exchange: string;
  name: string;
  has: Record<'createMarketOrder' | 'createLimitOrder' | 'editOrder' | 'cancelOrder' | 'createStopOrder' | 'fetchOHLCV' | 'fetchOpenOrders' | 'fetchClosedOrders' | 'fetchMyTrades' | 'fetchTicker' | 'fetchBalance', boolean>;
  modify: 'edit' | 'cancel_replace';
  /** English; `modifyNoteKey`/`modifyNoteParams` word it in the profile's language. */
  modifyNote: string;
  modifyNoteKey: string;
  modifyNoteParams: Params;
}

export interface PositionView {
  brokerId: string;
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
  quantity: Decimal;
  averageEntry: Decimal | null;
  realisedPnl: Decimal;
  unrealisedPnl: Decimal | null;
  price: Decimal | null;
  fills: number;
  sandbox: boolean;
  updatedAt: Date;
}

const yes = (v: unknown): boolean => v === true || v === 'emulated';

/** How Modify works on this exchange, in English and by key. */
function modifyNote(key: 'coreTrading.modify.binance' | 'coreTrading.modify.edit' | 'coreTrading.modify.cancelReplace', name: string): Pick<Capabilities, 'modifyNote' | 'modifyNoteKey' | 'modifyNoteParams'> {
  const w = worded(key, { name });
  return { modifyNote: w.message, modifyNoteKey: w.key, modifyNoteParams: w.params };
}

export class TradingReads {
  private readonly readOpts: ReadOptions;
  private readonly capabilityCache = new Map<string, Capabilities>();

  constructor(
    private readonly d: { db: Database; brokers: BrokerAccess; gateway: Pick<ExchangeGateway, 'run' | 'create' | 'info'>; log: Logger; maxRetryAfterMs?: number },
  ) {
    this.readOpts = { maxWaitMs: d.maxRetryAfterMs ?? 10_000, defaultWaitMs: 1_000, sleep };
  }

  private read<T>(ex: Exchange, what: string, fn: () => Promise<T>): Promise<T> {
    return readExchange(this.d.gateway, ex, what, fn, this.readOpts);
  }

  /** Last prices of several symbols in one request where the exchange allows it. */
  private async lastPrices(ex: Exchange, symbols: string[]): Promise<Map<string, Decimal>> {
    const out = new Map<string, Decimal>();
    if (!symbols.length) return out;
    let tickers: Record<string, Ticker>;
    if (ex.has.fetchTickers) {
      tickers = await this.read(ex, 'fetch tickers', () => ex.fetchTickers(symbols));
    } else {
      tickers = {};
      for (const s of symbols.slice(0, 20)) tickers[s] = await this.read(ex, `fetch ticker ${s}`, () => ex.fetchTicker(s));
    }
    for (const [s, t] of Object.entries(tickers)) {
      const last = dec(t?.last) ?? dec(t?.close);
      if (last && last.gt(0)) out.set(s, last);
    }
    return out;
  }

  async portfolio(profileId: string, brokerId: string): Promise<{ brokerId: string; exchange: string; valuationCurrency: string; assets: PortfolioAsset[]; total: Decimal; unpriced: string[]; fetchedAt: Date }> {
    const { ex, broker } = await this.d.brokers.exchangeFor(profileId, brokerId);
    const bal = await this.read(ex, 'fetch balance', () => ex.fetchBalance());
    const field = (k: 'free' | 'used' | 'total') => (bal[k] ?? {}) as unknown as Record<string, unknown>;
    const free = field('free');
    const used = field('used');
    const total = field('total');
    const names = [...new Set([...Object.keys(total), ...Object.keys(free), ...Object.keys(used)])].sort();
    const assets: PortfolioAsset[] = [];
    for (const asset of names) {
      const f = dec(free[asset]) ?? new Decimal(0);
      const u = dec(used[asset]) ?? new Decimal(0);
      const t = dec(total[asset]) ?? f.plus(u);
      if (t.isZero() && f.isZero() && u.isZero()) continue;
      assets.push({ asset, free: f, used: u, total: t, price: null, value: null });
    }
    const markets = ex.markets ?? {};
    const direct = assets.filter((a) => a.asset !== VALUATION && markets[`${a.asset}/${VALUATION}`]).map((a) => `${a.asset}/${VALUATION}`);
    const inverse = assets.filter((a) => a.asset !== VALUATION && !markets[`${a.asset}/${VALUATION}`] && markets[`${VALUATION}/${a.asset}`]).map((a) => `${VALUATION}/${a.asset}`);
    let prices = new Map<string, Decimal>();
    try {
      prices = await this.lastPrices(ex, [...direct, ...inverse]);
    } catch (e) {
      this.d.log.warn({ broker: brokerId, err: (e as Error).message }, 'could not price the portfolio');
    }
    let sum = new Decimal(0);
    const unpriced: string[] = [];
    for (const a of assets) {
      if (a.asset === VALUATION) a.price = new Decimal(1);
      else if (prices.has(`${a.asset}/${VALUATION}`)) a.price = prices.get(`${a.asset}/${VALUATION}`)!;
      else if (prices.has(`${VALUATION}/${a.asset}`)) a.price = new Decimal(new D(1).div(new D(prices.get(`${VALUATION}/${a.asset}`)!.toFixed())).toDecimalPlaces(12).toFixed());
      if (a.price) {
        a.value = a.total.times(a.price);
        sum = sum.plus(a.value);
      } else unpriced.push(a.asset);
    }
    assets.sort((x, y) => (y.value ?? new Decimal(-1)).comparedTo(x.value ?? new Decimal(-1)) || x.asset.localeCompare(y.asset));
    return { brokerId, exchange: broker.exchange, valuationCurrency: VALUATION, assets, total: sum, unpriced, fetchedAt: new Date() };
  }

  async markets(profileId: string, brokerId: string, q: { quote?: string; search?: string; limit: number }): Promise<{ total: number; quotes: string[]; markets: MarketRecord[] }> {
    const { ex, broker } = await this.d.brokers.exchangeFor(profileId, brokerId);
    const all = Object.values(ex.markets ?? {})
      .filter((m): m is NonNullable<typeof m> => !!m && (m.spot === true || m.type === 'spot'))
      .map((m) => marketRecord(broker.exchange, m, Number(ex.precisionMode)));
    const count = new Map<string, number>();
    for (const m of all) count.set(m.quote, (count.get(m.quote) ?? 0) + 1);
    const quotes = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([q]) => q);
    const quote = q.quote?.toUpperCase();
    const search = q.search?.trim().toUpperCase();
    const hits = all
      .filter((m) => (!quote || m.quote === quote) && (!search || m.symbol.toUpperCase().includes(search) || m.exchangeSymbol.toUpperCase().includes(search)))
      .sort((a, b) => Number(b.active) - Number(a.active) || a.symbol.localeCompare(b.symbol));
    return { total: hits.length, quotes, markets: hits.slice(0, q.limit) };
  }

  async capabilities(profileId: string, brokerId: string): Promise<Capabilities> {
    const broker = await this.d.brokers.get(profileId, brokerId);
    const cached = this.capabilityCache.get(broker.exchange);
    if (cached) return cached;
    const ex = this.d.gateway.create(broker.exchange, {}, false);
    const h = ex.has as Record<string, unknown>;
    const edit = yes(h.editOrder);
    const caps: Capabilities = {
      exchange: broker.exchange,
      name: String(ex.name ?? broker.exchange),
      has: {
        createMarketOrder: yes(h.createMarketOrder),
        createLimitOrder: yes(h.createLimitOrder),
        editOrder: edit,
        cancelOrder: yes(h.cancelOrder),
        createStopOrder: yes(h.createStopOrder) || yes(h.createStopLimitOrder) || yes(h.createTriggerOrder),
        fetchOHLCV: yes(h.fetchOHLCV),
        fetchOpenOrders: yes(h.fetchOpenOrders),
        fetchClosedOrders: yes(h.fetchClosedOrders) || yes(h.fetchOrders),
        fetchMyTrades: yes(h.fetchMyTrades),
        fetchTicker: yes(h.fetchTicker),
        fetchBalance: yes(h.fetchBalance),
      },
      modify: edit ? 'edit' : 'cancel_replace',
      ...modifyNote(edit ? (broker.exchange.startsWith('binance') ? 'coreTrading.modify.binance' : 'coreTrading.modify.edit') : 'coreTrading.modify.cancelReplace', String(ex.name ?? broker.exchange)),
    };
    this.capabilityCache.set(broker.exchange, caps);
    return caps;
  }

  /** Positions of each broker in its current mode (live or testnet): the other mode's are another account's. */
  async positions(profileId: string, brokerId?: string): Promise<PositionView[]> {
    type Row = { broker_id: string; sandbox: boolean; exchange: string; symbol: string; base: string; quote: string; quantity: Decimal; average_entry: Decimal | null; realised_pnl: Decimal; fills: number; updated_at: Date };
    const all = await this.d.db.withProfile(profileId, async (c) =>
      (await c.query<Row>(`SELECT * FROM positions ${brokerId ? 'WHERE broker_id = $1' : ''} ORDER BY exchange, symbol`, brokerId ? [brokerId] : [])).rows,
    );
    const modes = new Map<string, boolean>();
    for (const b of new Set(all.map((r) => r.broker_id))) modes.set(b, await currentSandbox(this.d.db, this.d.gateway, profileId, await this.d.brokers.get(profileId, b)));
    const rows = all.filter((r) => modes.get(r.broker_id) === r.sandbox);
    const prices = new Map<string, Decimal>();
    for (const b of new Set(rows.filter((r) => !r.quantity.isZero()).map((r) => r.broker_id))) {
      try {
        const { ex } = await this.d.brokers.exchangeFor(profileId, b);
        const symbols = rows.filter((r) => r.broker_id === b && !r.quantity.isZero() && ex.markets?.[r.symbol]).map((r) => r.symbol);
        for (const [s, p] of await this.lastPrices(ex, symbols)) prices.set(`${b}:${s}`, p);
      } catch (e) {
        this.d.log.warn({ broker: b, err: (e as Error).message }, 'could not price positions');
      }
    }
    return rows.map((r) => {
      const price = prices.get(`${r.broker_id}:${r.symbol}`) ?? null;
      return {
        brokerId: r.broker_id,
        exchange: r.exchange,
        symbol: r.symbol,
        base: r.base,
        quote: r.quote,
        quantity: r.quantity,
        averageEntry: r.average_entry,
        realisedPnl: r.realised_pnl,
        unrealisedPnl: unrealisedPnl({ quantity: r.quantity, averageEntry: r.average_entry, realisedPnl: r.realised_pnl }, price),
        price,
        fills: r.fills,
        sandbox: r.sandbox,
        updatedAt: r.updated_at,
      };
    });
  }
}
