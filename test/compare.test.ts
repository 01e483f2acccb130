import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveVsBacktest } from '../electron/bot/compare';
import { translate } from '../shared/i18n';
import { Kernel } from '../electron/kernel';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Live versus backtest on a paper activation whose journal shows slippage, a refused order, a missed
 * and a late signal: the real kernel backtests the same version over exactly those candles; the
 * differences are named and the P&L gap lines add up to the gap exactly.
 */

const UP = `import { Strategy } from 'aristobot';
export default class Up extends Strategy {
  static warmup = 1;
  shouldLong() { return this.close[this.i] > this.close[this.i - 1]; }
  shouldShort() { return false; }
  shouldExit() { return this.close[this.i] < this.close[this.i - 1]; }
}
`;
// closes of candles 0..9: the backtest opens at 1, closes at 3, opens at 4, closes at 6, opens at 7, closes at 9
const CLOSES = [100, 101, 102, 101, 102, 103, 100, 101, 102, 99];
const T0 = Date.UTC(2026, 5, 1, 10, 0);
const at = (i: number) => new Date(T0 + i * 60_000);

let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let kernel: Kernel;
let strategies: StrategyService;
let activationId: string;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  tr = await directTrading(tdb.db, sim.url, generateCredentials());
  kernel = new Kernel();
  strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
  const s = await strategies.create(tr.profileId, { name: 'Up', code: UP });
  const v = await strategies.getVersion(tr.profileId, s.id);
  const paper = await tr.brokers.createPaper(tr.profileId, { name: 'Paper', exchange: 'binance', balances: { USDT: '10000' } });
  for (let i = 0; i < CLOSES.length; i++) {
    const c = CLOSES[i]!;
    await tdb.db.query("INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume) VALUES ('binance', 'BTC/USDT', '1m', $1, $2, $3, $4, $5, 1)", [at(i), c, c + 1, c - 1, c]);
  }
  activationId = await tdb.db.withProfile(tr.profileId, async (q) => {
    const a = (
      await q.query<{ id: string }>(
        "INSERT INTO bot_activations (strategy_id, strategy_name, version, version_id, params, broker_id, symbol, timeframe, budget, state) VALUES ($1, 'Up', $2, $3, '{}', $4, 'BTC/USDT', '1m', '1000', 'stopped') RETURNING id",
        [s.id, v.version, v.versionId, paper.id],
      )
    ).rows[0]!.id;
    const order = async (status: string, error: string | null) =>
      (
        await q.query<{ id: string }>(
          "INSERT INTO orders (broker_id, exchange, source, source_ref, symbol, side, type, client_order_id, status, error_code, error_message) VALUES ($1, 'binance', 'strategy', $2, 'BTC/USDT', 'buy', 'market', $3, $4, $5, $6) RETURNING id",
          [paper.id, a, `c${Math.random().toString(36).slice(2, 12)}`, status, error ? 'insufficient_funds' : null, error],
        )
      ).rows[0]!.id;
    const o1 = await order('filled', null);
    const o3 = await order('filled', null);
    const o4 = await order('rejected', 'Not enough USDT: the order needs 990 USDT, 500 USDT is available');
    const o8 = await order('filled', null);
    const o9 = await order('filled', null);
    // the journal: candles 1..9 (0 is the warmup)
    const live: [number, string, string[]][] = [
      [1, 'open_long', [o1]],
      [2, 'none', []],
      [3, 'close', [o3]],
      [4, 'open_long', [o4]], // refused
      [5, 'none', []],
      [6, 'none', []], // the backtest closes here (live had nothing open): missed
      [7, 'none', []], // the backtest opens here; live one candle late
      [8, 'open_long', [o8]],
      [9, 'close', [o9]],
    ];
    for (const [i, action, ids] of live) {
      await q.query("INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, order_ids) VALUES ($1, 'signal', $2, $3, 'test', 'done', $4::uuid[])", [a, at(i), action, ids]);
    }
    // the trades as booked: entry 1 → exit 3 with slippage, entry 8 → exit 9
    await q.query(
      "INSERT INTO bot_trades (activation_id, side, amount, entry_price, exit_price, entry_time, exit_time, fees, pnl, exit_reason, entry_order_id, exit_order_id) VALUES ($1, 'long', '9.8', '101.05', '100.95', $2, $3, '1.9796', '-2.9596', 'signal', $4, $5)",
      [a, at(1), at(3), o1, o3],
    );
    await q.query(
      "INSERT INTO bot_trades (activation_id, side, amount, entry_price, exit_price, entry_time, exit_time, fees, pnl, exit_reason, entry_order_id, exit_order_id) VALUES ($1, 'long', '9.5', '102', '99', $2, $3, '1.9095', '-30.4095', 'signal', $4, $5)",
      [a, at(8), at(9), o8, o9],
    );
    return a;
  });
}, 60_000);
afterAll(async () => {
  kernel?.dispose();
  await tdb?.close();
  await sim?.close();
});

describe('live versus backtest', () => {
  it('names matched, refused, missed and late decisions, per-trade gaps, and a P&L gap that adds up exactly', async () => {
    const cmp = new LiveVsBacktest({ db: tdb.db, strategies, kernel, brokers: tr.brokers });
    const r = await cmp.compare(tr.profileId, activationId);
    expect(r.candles).toEqual({ from: at(0).toISOString(), to: at(9).toISOString(), count: 10 });
    const byTime = Object.fromEntries(r.decisions.map((d) => [d.candleTime, [d.status, d.backtest, d.live, d.lateBy ?? null]]));
    expect(byTime).toEqual({
      [at(1).toISOString()]: ['matched', 'open_long', 'open_long', null],
      [at(3).toISOString()]: ['matched', 'close', 'close', null],
      [at(4).toISOString()]: ['refused', 'open_long', 'open_long', null],
      [at(6).toISOString()]: ['missed', 'close', 'none', null],
      [at(7).toISOString()]: ['late', 'open_long', 'open_long', 1],
      [at(9).toISOString()]: ['matched', 'close', 'close', null],
    });
    expect(r.decisions.find((d) => d.status === 'refused')!.message).toMatch(/Not enough USDT/);
    expect(r.counts).toEqual({ matched: 3, different: 0, missed: 1, late: 1, extra: 0, refused: 1 });

    // the pair entered on candle 1: the backtest filled at the closes (101, 101), live with slippage
    const pair = r.trades.find((t) => t.live && t.backtest)!;
    expect(pair.entryCandle).toBe(at(1).toISOString());
    expect(pair.backtest).toMatchObject({ entryPrice: '101', exitPrice: '101' });
    expect(pair.gaps).toMatchObject({ entryPrice: '0.05', exitPrice: '-0.05' });
    expect(new Decimal(pair.gaps!.fees).eq(new Decimal('1.9796').minus(pair.backtest!.fees))).toBe(true);
    // unpaired: live 8 → 9 (late), backtest 4 → 6 (refused live) and 7 → 9
    expect(r.trades.filter((t) => t.live && !t.backtest).map((t) => t.live!.entryPrice)).toEqual(['102']);
    expect(r.trades.filter((t) => !t.live && t.backtest).map((t) => t.entryCandle)).toEqual([at(4).toISOString(), at(7).toISOString()]);

    // totals: live = its booked trades; the lines add up to the gap exactly
    expect(r.pnl.live).toBe('-33.3691');
    const btSum = r.trades.filter((t) => t.backtest).reduce((s, t) => s.plus(t.backtest!.pnl), new Decimal(0));
    expect(r.pnl.backtest).toBe(btSum.toFixed());
    expect(r.pnl.gap).toBe(new Decimal(r.pnl.live).minus(r.pnl.backtest).toFixed());
    expect(r.pnl.lines.reduce((s, l) => s.plus(l.amount), new Decimal(0)).toFixed()).toBe(r.pnl.gap);
    expect(r.pnl.lines.map((l) => l.label)).toEqual(expect.arrayContaining([expect.stringMatching(/entry price 101\.05 vs 101$/), expect.stringMatching(/live only$/), expect.stringMatching(/backtest only$/)]));
    const entryLine = r.pnl.lines.find((l) => /entry price 101\.05/.test(l.label))!;
    expect(entryLine.amount).toBe('-0.49'); // (101 − 101.05) × 9.8
    // every line by key: the English is the catalogue's, the French reads as a French trader expects
    for (const l of r.pnl.lines) expect(translate('en', l.labelKey, l.labelParams)).toBe(l.label);
    expect(entryLine).toMatchObject({ labelKey: 'coreBot.compare.entryPrice', labelParams: { at: at(1).toISOString(), live: '101.05', backtest: '101' } });
    expect(translate('fr', entryLine.labelKey, entryLine.labelParams)).toBe(`Trade ouvert sur la bougie du ${at(1).toISOString()} : prix d'entrée 101,05 contre 101`);
    // the exchange's own refusal is passed as is, inside no translation
    const refused = r.decisions.find((d) => d.status === 'refused')!;
    expect(refused).toMatchObject({ messageKey: 'errors.external', messageParams: { reason: refused.message } });
    expect(r.note).toBeNull();
  });
});
