import Decimal from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../shared/errors';
import { translate } from '../shared/i18n';
import { wordError } from '../shared/i18n/wording';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderRow } from '../electron/trading/journal';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Native stop-loss / take-profit through the order service, CCXT's real binance class and the
 * exchange simulator: an OCO list at the exchange, journaled before it is sent; the take-profit
 * filling cancels the stop-loss (the exchange expires it) and updates the position; the same client
 * order id never places twice (a restart); a symbol without stop orders falls back to watched; bad
 * levels are refused with nothing placed.
 */

const BTC = 'BTC/USDT';
const ETH = 'ETH/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;

beforeAll(async () => {
  sim = await startExchangeSim({ markets: [{ symbol: BTC }, { symbol: ETH, orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'] }] });
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});
beforeEach(async () => {
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '0', ETH: '0' }, takerRate: '0', makerRate: '0' });
  sim.series.setPrice(BTC, '60000');
  sim.series.setPrice(ETH, '3000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
});

const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at, protects')).rows);
const simOrders = () => sim.orders(tr.credentials.apiKey);
const ocoRequests = (): number => sim.requestLog.filter((r) => r.path === '/api/v3/orderList/oco').length;
const buy = (symbol: string, amount: string) => orders.place(tr.profileId, { brokerId: tr.brokerId, symbol, side: 'buy', type: 'market', amount, source: 'webhook', clientOrderId: `buy-${symbol.slice(0, 3)}` });
const protect = (o: { symbol?: string; amount?: string; stopLoss?: string | null; takeProfit?: string | null; clientOrderId?: string; entryPrice?: string }, service = orders) =>
  service.protect(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, amount: '0.1', source: 'webhook', clientOrderId: 'pair-1', ...o });

describe('native stop-loss / take-profit', () => {
  it('a buy with SL and TP places two native orders (one OCO list), journaled with their trigger prices', async () => {
    await buy(BTC, '0.1');
    const sent = ocoRequests();
    const p = await protect({ stopLoss: '55000', takeProfit: '65000' });
    expect(p.mode).toBe('native');
    expect(p.how).toBe('oco');
    expect(p.orders.map((o) => [o.protects, o.client_order_id, o.status, o.trigger_price?.toFixed(), o.amount?.toFixed(), o.oco_ref])).toEqual([
      ['stop_loss', 'pair-1-sl', 'open', '55000', '0.1', 'pair-1'],
      ['take_profit', 'pair-1-tp', 'open', '65000', '0.1', 'pair-1'],
    ]);
    expect(ocoRequests() - sent).toBe(1);
    const legs = simOrders().filter((o) => o.type !== 'MARKET');
    expect(legs.map((o) => [o.type, o.side, o.status, o.clientOrderId]).sort()).toEqual([
      ['STOP_LOSS', 'SELL', 'NEW', 'pair-1-sl'],
      ['TAKE_PROFIT', 'SELL', 'NEW', 'pair-1-tp'],
    ]);
    expect(orders.toDto(p.orders[0]!)).toMatchObject({ triggerPrice: '55000', protects: 'stop_loss', ocoRef: 'pair-1' });
  });

  it('the price crossing the take-profit fills it, the stop-loss is cancelled, and the position is flat again', async () => {
    await buy(BTC, '0.1');
    await protect({ stopLoss: '55000', takeProfit: '65000' });
    sim.series.setPrice(BTC, '65500');
    sim.tick();
    const s = await orders.settleProtection(tr.profileId, tr.brokerId, false, 'pair-1');
    expect(s.active).toBe(false);
    expect(s.filled?.protects).toBe('take_profit');
    expect(s.legs.map((l) => [l.protects, l.status, l.filled.toFixed()])).toEqual([
      ['stop_loss', 'cancelled', '0'],
      ['take_profit', 'filled', '0.1'],
    ]);
    const pos = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ quantity: Decimal; realised_pnl: Decimal }>('SELECT quantity, realised_pnl FROM positions WHERE symbol = $1', [BTC])).rows[0]!);
    expect(pos.quantity.toFixed()).toBe('0');
    expect(pos.realised_pnl.toFixed()).toBe('550');
    // and the stop-loss never fires afterwards
    sim.series.setPrice(BTC, '50000');
    sim.tick();
    expect(simOrders().filter((o) => o.clientOrderId === 'pair-1-sl').map((o) => o.status)).toEqual(['EXPIRED']);
  });

  it('a restart does not place them twice: the same client order id answers the journaled legs', async () => {
    await buy(BTC, '0.1');
    const sent = ocoRequests();
    const first = await protect({ stopLoss: '55000', takeProfit: '65000' });
    const restarted = tr.service();
    const again = await protect({ stopLoss: '55000', takeProfit: '65000' }, restarted);
    expect(again.mode).toBe('native');
    expect(again.orders.map((o) => o.id)).toEqual(first.orders.map((o) => o.id));
    expect(ocoRequests() - sent).toBe(1);
    expect(simOrders().filter((o) => o.type !== 'MARKET')).toHaveLength(2);
    // the legs left 'sent' by a crash are looked up by their client order ids, never resent
    await tr.db.withProfile(tr.profileId, (c) => c.query("UPDATE orders SET status = 'sent', exchange_order_id = NULL WHERE oco_ref = 'pair-1'"));
    const r = await restarted.reconcile(tr.profileId);
    expect(r.resolved).toBe(2);
    expect((await rows()).filter((o) => o.oco_ref).map((o) => o.status)).toEqual(['open', 'open']);
    expect(ocoRequests() - sent).toBe(1);
  });

  it('one level alone is a single native order; a stop-loss crossing sells at market', async () => {
    await buy(BTC, '0.1');
    const p = await protect({ stopLoss: '58000', clientOrderId: 'only-sl' });
    expect([p.mode, p.how, p.orders.map((o) => [o.client_order_id, o.status])]).toEqual(['native', 'single', [['only-sl-sl', 'open']]]);
    sim.series.setPrice(BTC, '57000');
    sim.tick();
    const s = await orders.settleProtection(tr.profileId, tr.brokerId, false, 'only-sl');
    expect(s.filled?.status).toBe('filled');
    expect(s.filled?.average_price?.toFixed()).toBe('57000');
  });

  it('an exchange market without stop orders falls back to watched, nothing placed', async () => {
    await buy(ETH, '1');
    const before = simOrders().length;
    const p = await protect({ symbol: ETH, amount: '1', stopLoss: '2500', takeProfit: '3500' });
    expect(p.mode).toBe('watched');
    expect(p.reason).toMatch(/does not accept STOP_LOSS orders on ETH\/USDT/);
    // the reason by key beside its English: French for a French profile
    expect(p.reasonKey).toBe('coreTrading.protection.typeNotAccepted');
    expect(translate('en', p.reasonKey, p.reasonParams)).toBe(p.reason);
    expect(translate('fr', p.reasonKey, p.reasonParams)).toBe('binance n’accepte pas les ordres STOP_LOSS sur ETH/USDT.');
    expect(p.orders).toEqual([]);
    expect(simOrders()).toHaveLength(before);
    expect((await rows()).filter((o) => o.oco_ref)).toEqual([]);
  });

  it('bad levels are invalid_input with the reason, and nothing is journaled or sent', async () => {
    await buy(BTC, '0.1');
    const count = simOrders().length;
    const journal = (await rows()).length;
    const cases: [Parameters<typeof protect>[0], RegExp][] = [
      [{ stopLoss: '61000', takeProfit: '65000' }, /stop-loss 61000 must be below the price 60000 for a long position/],
      [{ stopLoss: '55000', takeProfit: '59000' }, /take-profit 59000 must be above the price 60000/],
      [{ stopLoss: '65000', takeProfit: '55000' }, /stop-loss 65000 must be below the take-profit 55000/],
      [{ stopLoss: '55000', takeProfit: '65000', entryPrice: '50000' }, /stop-loss 55000 must be below the price 50000/],
      [{ stopLoss: 'abc' }, /stopLoss must be a decimal number/],
      [{ stopLoss: '-5' }, /not a positive price/],
      [{ stopLoss: null, takeProfit: null }, /give a stop-loss, a take-profit or both/],
      [{ stopLoss: '55000', amount: '0' }, /amount to protect must be a positive number/],
    ];
    for (const [input, message] of cases) {
      const e = await protect(input).then(() => null, (x: unknown) => x);
      expect(isAppError(e) && e.code, String(message)).toBe('invalid_input');
      expect((e as Error).message).toMatch(message);
      // each issue names its field with a key; the whole refusal words in French
      const issues = ((e as AppError).details as { issues: { path: string; key: string; params: Record<string, string>; message: string }[] }).issues;
      for (const i of issues) expect(translate('en', i.key, i.params), i.key).toBe(i.message);
      expect(wordError('fr', (e as AppError).toPayload())).not.toMatch(/must be|give a|is not a positive|amount to protect/);
    }
    const e = await protect({ stopLoss: '61000', takeProfit: '65000' }).then(() => null, (x: unknown) => x as AppError);
    expect(wordError('fr', e!.toPayload())).toBe('Stop-loss / take-profit non placé : le stop-loss 61\u202f000 doit être inférieur au prix 60\u202f000 pour une position longue.');
    expect(simOrders()).toHaveLength(count);
    expect((await rows()).length).toBe(journal);
  });
});
