import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate, type Params } from '../shared/i18n';
import { startLiveBot, type LiveBot } from './support/live-bot';

/**
 * The trading bot's native stop-loss / take-profit end to end (the app's default): the engine with
 * its BotProtection on the heartbeat (stream simulator), the real order service and CCXT on the
 * Binance REST simulator, which holds the OCO pair and executes a leg when its price crosses.
 * - after the open fill the pair rests at the exchange and the activation says 'native';
 * - the exchange executes the stop while the engine is off: the reconcile pass books it as the
 *   close (no new order sent), and the locked coins never read as a book mismatch;
 * - Sell and Stop (keep) cancel the pair first; a pair cancelled outside the app → watched again.
 */

const BTC = 'BTC/USDT';
// just after a 4h boundary with backfillHours 0: no history
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);

let live: LiveBot;
beforeAll(async () => {
  live = await startLiveBot({ startTime: T0, balances: { USDT: '10000', BTC: '0.5', ETH: '3' }, protection: true });
}, 60_000);
afterAll(async () => {
  await live?.close();
});

const bot = () => live.bot;
const profileId = () => live.tr.profileId;
const run = (minutes: number) => live.run(minutes);
const orderPosts = () => live.ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
/** A core sentence by key: its stored English is the English catalogue's; its French as the renderer words it. */
const french = (english: string | null | undefined, key: string | null | undefined, params: unknown) => {
  expect(key, `a key for "${english}"`).toEqual(expect.any(String));
  expect(translate('en', key!, (params ?? undefined) as Params | undefined)).toBe(english);
  return translate('fr', key!, (params ?? undefined) as Params | undefined);
};

const STRATEGY = `import { Strategy } from 'aristobot';
export default class Guarded extends Strategy {
  static warmup = 1;
  shouldLong() { return true; }
  shouldShort() { return false; }
  calculatePositionSize() { return 1; }
  calculateStopLoss() { return 0.1; }
  calculateTakeProfit() { return 0.1; }
}
`;
const resting = () => live.ex.orders(live.tr.credentials.apiKey).filter((o) => o.type !== 'MARKET' && o.status === 'NEW');
const btcBalance = () => live.ex.balances(live.tr.credentials.apiKey).BTC ?? { free: '0', locked: '0' };

describe('the bot with native stop-loss / take-profit', () => {
  let id: string;

  /** Runs minutes until the activation holds a position, and returns it. */
  async function opened() {
    for (let i = 0; i < 4 && !(await bot().get(profileId(), id)).position; i++) await run(1);
    const a = await bot().get(profileId(), id);
    expect(a.position, 'a position opened').not.toBeNull();
    return a;
  }

  it('after the open fill the pair rests at the exchange, the coins locked; the activation says native; reconcile sees no mismatch', async () => {
    const s = await live.strategies.create(profileId(), { name: 'Guarded', code: STRATEGY });
    id = (await bot().create(profileId(), { strategyId: s.id, brokerId: live.tr.brokerId, symbol: BTC, timeframe: '1m', budget: '300' })).id;
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    const entry = new Decimal(a.position!.entryPrice!);
    expect(new Decimal(a.position!.stopLoss!).toNumber()).toBeCloseTo(entry.times(0.9).toNumber(), 0);
    const legs = resting();
    expect(legs.map((o) => o.side).sort()).toEqual(['SELL', 'SELL']);
    // each leg sells the position rounded down to the market's lot step (the dust below a step stays)
    const amount = new Decimal(a.position!.amount);
    for (const o of legs) expect(amount.minus(o.origQty).gte(0) && amount.minus(o.origQty).lt('0.0001'), `${o.origQty} for ${amount.toFixed()}`).toBe(true);
    expect(new Decimal(btcBalance().locked).toFixed()).toBe(new Decimal(legs[0]!.origQty).toFixed()); // one OCO list locks once
    // quiet minutes: the pair is not asked on the signal path (no level reached), and stays
    const gets = live.ex.requestLog.length;
    await run(2);
    expect(live.ex.requestLog.slice(gets).filter((r) => r.path.startsWith('/api/v3/order')), 'no order request on quiet minutes').toHaveLength(0);
    expect(resting()).toHaveLength(2);
    const report = await bot().reconcile();
    expect(report.mismatched).toEqual([]);
    expect(await bot().get(profileId(), id)).toMatchObject({ state: 'running', position: { protection: 'native' } });
  }, 90_000);

  it('the exchange executes the stop while the engine is off: booked as the close by the reconcile pass, with no order of its own', async () => {
    await bot().engineSet(profileId(), false);
    const a = await bot().get(profileId(), id);
    const sl = new Decimal(a.position!.stopLoss!);
    const posts = orderPosts().length;
    live.ex.series.setPrice(BTC, sl.minus(100).toFixed());
    live.ex.tick();
    expect(resting()).toHaveLength(0); // one leg executed, the other expired
    const report = await bot().reconcile();
    expect(report.mismatched).toEqual([]);
    const after = await bot().get(profileId(), id);
    expect(after).toMatchObject({ state: 'running', position: null });
    const trade = (await bot().trades(profileId(), id))[0]!;
    expect(trade).toMatchObject({ exitReason: 'stop_loss' });
    const d = (await bot().decisions(profileId(), id, 20)).find((x) => x.kind === 'stop_loss')!;
    expect(d).toMatchObject({ status: 'done', reasonKey: 'coreBot.decision.stopLossNative' });
    expect(french(d.reason, d.reasonKey, d.reasonParams)).toMatch(/stop-loss/i);
    expect(orderPosts(), 'the executed leg is booked, not sent again').toHaveLength(posts);
    // engine off: no new position on the next signals
    await run(2);
    expect((await bot().get(profileId(), id)).position).toBeNull();
    await bot().engineSet(profileId(), true);
  }, 90_000);

  it('Sell cancels the pair first, then sells at market', async () => {
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    expect(resting()).toHaveLength(2);
    const sold = await bot().sell(profileId(), id);
    expect(sold.position).toBeNull();
    expect(resting()).toHaveLength(0);
    expect((await bot().trades(profileId(), id))[0]).toMatchObject({ exitReason: 'sell' });
  }, 90_000);

  it('a pair cancelled outside the app: the reconcile pass says so and the engine watches the levels again', async () => {
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    // the user cancels the pair at the exchange (its own client, not the app)
    expect(live.ex.cancelAllOpen(live.tr.credentials.apiKey, BTC)).toBeGreaterThan(0);
    expect(resting()).toHaveLength(0);
    await bot().reconcile();
    expect(await bot().get(profileId(), id)).toMatchObject({ state: 'running', position: { protection: 'engine' } });
  }, 90_000);

  it('Stop, keeping the position: the pair is cancelled and the coins are free on the account', async () => {
    await bot().sell(profileId(), id);
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    const stopped = await bot().stopActivation(profileId(), id, false);
    expect(stopped).toMatchObject({ state: 'stopped', reasonKey: 'coreBot.state.stoppedLeft' });
    expect(resting()).toHaveLength(0);
    expect(new Decimal(btcBalance().locked).toFixed()).toBe('0');
    expect(new Decimal(btcBalance().free).gte(a.position!.amount)).toBe(true);
  }, 90_000);
});
