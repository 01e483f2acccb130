import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine, botClientOrderId } from '../electron/bot/engine';
import type { StoredCandle } from '../electron/heartbeat/store';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderRow } from '../electron/trading/journal';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { standInHeartbeat } from './support/bot-heartbeat';
import { createTestDb, TEST_APP_PASSWORD, type TestDb } from './support/db';

/**
 * kill -9 between the decision and the exchange's answer, at each step: the bot process (the real
 * engine, order service, CCXT on the Binance REST simulator, database) SIGKILLs itself after the
 * decision was journaled / after the order was journaled / after it was marked sent / after the
 * exchange answered; a restarted engine leaves exactly one order at the exchange for the decision,
 * the decision journaled once and done with that order, and the book holding its fill.
 */

const ROOT = resolve(import.meta.dirname, '..');
const BTC = 'BTC/USDT';
const MIN = 60_000;
const log = silentLogger();

let sim: ExchangeSim;
let tdb: TestDb;
let kernel: Kernel;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  kernel = new Kernel();
}, 60_000);
afterAll(async () => {
  kernel?.dispose();
  await tdb?.close();
  await sim?.close();
});

type Step = 'afterDecision' | 'afterIntent' | 'beforeSend' | 'afterAnswer';

function crash(tr: DirectTrading, step: Step, signal: HeartbeatSignal, candles: StoredCandle[]): Promise<string> {
  const cfg = { dbUrl: tdb.ownerUrl, appPassword: TEST_APP_PASSWORD, simUrl: sim.url, secretRef: tr.secretRef, credentials: tr.credentials, signal, candles, now: signal.closeTime + 1 + 1500, crashAt: step };
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/bot-crash-child.ts', JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, sig) => (sig === 'SIGKILL' ? res(out) : rej(new Error(`the child exited with ${code ?? sig} instead of being killed:\n${out}`))));
  });
}

/** A fresh account, profile, always-long strategy and activation; the candles up to the signalled one. */
async function setup(): Promise<{ tr: DirectTrading; activationId: string; signal: HeartbeatSignal; candles: StoredCandle[] }> {
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000' } });
  sim.series.setPrice(BTC, '50000');
  const tr = await directTrading(tdb.db, sim.url, creds);
  const strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(ROOT, 'resources/strategies') });
  const s = await strategies.create(tr.profileId, {
    name: 'Always long',
    code: `import { Strategy } from 'aristobot';\nexport default class AlwaysLong extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n}\n`,
  });
  const creator = new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: standInHeartbeat(), orders: tr.service(), brokers: tr.brokers, strategies, kernel, config: { reconcileIntervalMs: 0 } });
  const a = await creator.create(tr.profileId, { strategyId: s.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000' });
  await creator.stop();
  const last = Math.floor(Date.now() / MIN) * MIN - MIN;
  const candles: StoredCandle[] = [];
  for (let t = last - 9 * MIN; t <= last; t += MIN) candles.push({ openTime: t, open: '50000', high: '50100', low: '49900', close: '50000', volume: '3' });
  const signal: HeartbeatSignal = { exchange: 'binance', symbol: BTC, timeframe: '1m', openTime: last, closeTime: last + MIN - 1, candle: candles.at(-1)!, backfilled: false, receivedAt: null };
  return { tr, activationId: a.id, signal, candles };
}

/** The app started again: the order service settles lost answers, the engine takes up its pending decisions. */
async function restart(tr: DirectTrading, candles: StoredCandle[], signal: HeartbeatSignal): Promise<BotEngine> {
  const hb = standInHeartbeat();
  hb.candles.set(`${BTC}|1m`, candles);
  // neverArrivedAfterMs 0: the exchange's recvWindow is taken as passed (an order marked sent that
  // the exchange does not know never arrived), so the outcome of every step is known at once
  // the engine's clock: restarted 10 s after the candle closed, however long the crash took on a
  // loaded machine (an opening leg is never retried once its candle is more than one timeframe old)
  const clock = { now: () => signal.closeTime + 1 + 10_000 };
  const bot = new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders: tr.service({ neverArrivedAfterMs: 0 }), brokers: tr.brokers, strategies: new StrategyService({ db: tdb.db, templatesDir: resolve(ROOT, 'resources/strategies') }), kernel, config: { reconcileIntervalMs: 0 }, clock });
  await bot.start();
  await bot.idle();
  return bot;
}

const CASES: { step: Step; journal: OrderRow['status'][]; orders: number }[] = [
  // the decision and its plan committed, no order journaled: the restart places it (once)
  { step: 'afterDecision', journal: [], orders: 0 },
  // the order journaled (intent), never sent: proved absent, the leg is placed under a new attempt id
  { step: 'afterIntent', journal: ['intent'], orders: 0 },
  // marked sent, the request never left: absent after the recvWindow, placed under a new attempt id
  { step: 'beforeSend', journal: ['sent'], orders: 0 },
  // the exchange filled it, the answer was never stored: found by its client order id, not resent
  { step: 'afterAnswer', journal: ['sent'], orders: 1 },
];

describe('kill -9 between the decision and the answer, then a restart', () => {
  for (const c of CASES) {
    it(`killed ${c.step}: exactly one order at the exchange for the decision; the decisions journal and the book match it`, async () => {
      const { tr, activationId, signal, candles } = await setup();
      const root = botClientOrderId(activationId, 'signal', signal.openTime, 'open');
      const atExchange = () => sim.orders(tr.credentials.apiKey).filter((o) => o.clientOrderId.startsWith(root));
      const journal = () => tr.db.withProfile(tr.profileId, async (q) => (await q.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);

      expect(await crash(tr, c.step, signal, candles)).toContain(`CRASHING ${c.step}`);
      // what the dead process left
      const decided = await tr.db.withProfile(tr.profileId, async (q) => (await q.query<{ status: string; plan: { clientOrderId: string }[] }>('SELECT status, plan FROM bot_decisions WHERE activation_id = $1', [activationId])).rows);
      expect(decided).toEqual([expect.objectContaining({ status: 'pending', plan: [expect.objectContaining({ clientOrderId: root })] })]);
      expect((await journal()).map((o) => o.status)).toEqual(c.journal);
      expect(atExchange()).toHaveLength(c.orders);

      const bot = await restart(tr, candles, signal);
      try {
        const placed = atExchange();
        expect(placed).toHaveLength(1);
        expect(placed[0]).toMatchObject({ status: 'FILLED', side: 'BUY' });
        const filled = (await journal()).filter((o) => o.status === 'filled');
        expect(filled).toHaveLength(1);
        expect(filled[0]).toMatchObject({ client_order_id: placed[0]!.clientOrderId, source: 'strategy', source_ref: activationId });
        // the decision: journaled once, done, its last order the one at the exchange
        const ds = await bot.decisions(tr.profileId, activationId, 10);
        expect(ds).toHaveLength(1);
        expect(ds[0]).toMatchObject({ kind: 'signal', action: 'open_long', status: 'done', candleTime: new Date(signal.openTime).toISOString() });
        expect(ds[0]!.orderIds.at(-1)).toBe(filled[0]!.id);
        // the book holds the fill (net of the fee paid in BTC), which is what the account holds
        const a = await bot.get(tr.profileId, activationId);
        expect(a).toMatchObject({ state: 'running', position: { side: 'long', entryPrice: filled[0]!.average_price!.toFixed() } });
        const btc = sim.balances(tr.credentials.apiKey).BTC!;
        expect(a.position!.amount).toBe(new Decimal(btc.free).plus(btc.locked).toFixed());
        // another reconciliation (the minute's) changes nothing and sends nothing
        const posts = sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
        expect(await bot.reconcile()).toEqual({ mismatched: [], replayed: 0, unreadable: [] });
        expect(sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length).toBe(posts);
        expect(atExchange()).toHaveLength(1);
      } finally {
        // stopped (position left on the account): the next case's restart does not load it
        await bot.stopActivation(tr.profileId, activationId, false).catch(() => undefined);
        await bot.stop();
      }
    }, 60_000);
  }
});
