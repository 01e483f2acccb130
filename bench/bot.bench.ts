/**
 * Trading bot benchmark: 20 activations on 20 symbols among 500 watched, every symbol's closing
 * message at the same instant (the heartbeat bench's burst case); latency from the receipt of the
 * closing 1m message to the order request (`OrderService.place` called), per opening decision.
 * Real parts: the bundled PostgreSQL, the stream simulator over WebSocket, the Binance REST
 * simulator through CCXT, the strategies in the sandbox. Prints figures; asserts nothing.
 *
 * The simulators run in a child process of their own (bench/sims.process.ts), as the exchange
 * and the stream are other machines for the real app: this process does only the app's work, and
 * its CPU per burst is the app's. `--sims in-process` puts them back in this process (the old
 * set-up, for comparison).
 *
 *   npx tsx bench/bot.bench.ts [--symbols 500] [--activations 20] [--minutes 8] [--breakdown] [--sims child|in-process] [--sims-nice]
 *
 * `--breakdown` also prints where the milliseconds go, per opening decision (p50 / p99 of each
 * stage): receipt → signal (the heartbeat), signal → the strategy called (the engine's queue and
 * window), the strategy's decision (the sandbox), decision → order request (the plan; the order is
 * requested while the decision is being journaled), and beside it decision → journaled (the
 * decision's INSERT committed: the order service journals the order's intent only after it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BotEngine } from '../electron/bot/engine';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { HeartbeatService } from '../electron/heartbeat/service';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading } from '../electron/trading/fixtures/direct';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { SimProcess } from './sims.process';
import { generateCredentials } from '../test/sim/exchange/signing';
import { startExchangeSim } from '../test/sim/exchange/server';
import { PriceSeries, type SeriesSymbol } from '../test/sim/series';
import { StreamSimulator } from '../test/sim/stream/server';

const MIN = 60_000;
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('symbols', 500);
const A = arg('activations', 20);
const MINUTES = arg('minutes', 8);
const BREAKDOWN = process.argv.includes('--breakdown');
const IN_PROCESS = process.argv.includes('--sims') && process.argv[process.argv.indexOf('--sims') + 1] === 'in-process';
// --sims-nice: the simulators' process at the lowest CPU priority (on 2 cores it otherwise takes one from the app and PostgreSQL during each burst)
const SIMS_NICE = process.argv.includes('--sims-nice');
const hrNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-bot-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  const symbols: Record<string, SeriesSymbol> = {};
  for (let i = 0; i < N; i++) symbols[`S${i}/USDT`] = { base: 10 + i, priceDecimals: 4, volumeDecimals: 2 };
  const start = Date.UTC(2024, 4, 6, 8, 0);
  const db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log, poolMax: 8 });
  const creds = generateCredentials();
  const balances = { USDT: '100000000' };
  // the simulators: a child process (default), or this one (--sims in-process); the same interface either way
  let sims: { exchangeUrl: string; wsUrl: string; restUrl: string; now(): number; advance(ms: number): Promise<void>; cpuMs(): Promise<number>; close(): Promise<void> };
  if (IN_PROCESS) {
    const ex = await startExchangeSim({ series: new PriceSeries(42, Object.fromEntries(Object.entries(symbols).slice(0, A))), accounts: [{ ...creds, balances }] });
    const stream = await StreamSimulator.start({ series: new PriceSeries(42, symbols), startTime: start + 30_000, spreadMs: 0, updatesPerMinute: 1 });
    sims = {
      exchangeUrl: ex.url,
      wsUrl: stream.wsUrl,
      restUrl: stream.restUrl,
      now: () => stream.now(),
      advance: async (ms) => stream.advance(ms),
      cpuMs: async () => 0, // counted in this process's own CPU
      close: async () => void (await Promise.allSettled([stream.close(), ex.close()])),
    };
  } else {
    sims = await SimProcess.start({ seed: 42, symbols, exchangeSymbols: Object.keys(symbols).slice(0, A), account: { ...creds, balances }, startTime: start + 30_000, spreadMs: 0, updatesPerMinute: 1, lowPriority: SIMS_NICE });
  }
  const markets = Object.keys(symbols).map((symbol) => ({ symbol, id: symbol.replace('/', '') }));
  const kernel = new Kernel();
  let hb: HeartbeatService | undefined;
  let bot: BotEngine | undefined;
  try {
    await db.query('DELETE FROM heartbeat_symbols');
    await db.query("INSERT INTO heartbeat_symbols (exchange, symbol) SELECT 'binance', unnest($1::text[])", [Object.keys(symbols)]);
    const tr = await directTrading(db, sims.exchangeUrl, creds);
    // the moment the order request leaves for the exchange: the order service's last step before
    // CCXT's createOrder (its intent journaled, marked sent), per symbol of an opening order
    const sentAt = new Map<string, number>();
    // and the moment the exchange's answer to it arrived (CCXT's createOrder returned: the order filled and known)
    const answeredAt = new Map<string, number>();
    const orders = tr.service({ hooks: { beforeSend: (o) => void (o.side === 'buy' && sentAt.set(o.symbol, hrNow())), afterAnswer: (o) => void (o.side === 'buy' && answeredAt.set(o.symbol, hrNow())) } });
    const toExchange: number[] = [];
    const answered: number[] = [];
    const receipts = new Map<string, number>();
    const lat: number[] = [];
    // --breakdown: per symbol, the times of the current minute's stages
    type Marks = { signal?: number; decideIn?: number; decideOut?: number };
    const marks = new Map<string, Marks>();
    const stages: Record<'signal' | 'queue' | 'decide' | 'journal' | 'order', number[]> = { signal: [], queue: [], decide: [], order: [], journal: [] };
    // CPU: the isolate's per decision (and whether it ran on the calling thread), the process's per burst
    const decideCpu: number[] = [];
    const burstCpu: number[] = [];
    let syncDecisions = 0;
    let decisions = 0;
    // the decisions that did not run on the calling thread: the activation's how-many-th decision, the CPU of the one before, and whether the window's columns were new
    const offThread: string[] = [];
    let minute = 0;
    const byClose = new Map<number, string>();
    const symbolOf = new Map<string, string>();
    const timed = {
      place: (profileId: string, req: Parameters<typeof orders.place>[1]) => {
        const r = receipts.get(req.symbol);
        if (r !== undefined && req.side === 'buy') {
          const t = hrNow();
          lat.push(t - r);
          const m = marks.get(req.symbol);
          if (BREAKDOWN && m?.signal && m.decideIn && m.decideOut) {
            stages.signal.push(m.signal - r);
            stages.queue.push(m.decideIn - m.signal);
            stages.decide.push(m.decideOut - m.decideIn);
            stages.order.push(t - m.decideOut);
          }
        }
        const p = orders.place(profileId, req);
        if (r !== undefined && req.side === 'buy') {
          const done = () => {
            const t = sentAt.get(req.symbol);
            if (t !== undefined && t >= r) toExchange.push(t - r);
            const a = answeredAt.get(req.symbol);
            if (a !== undefined && a >= r) answered.push(a - r);
          };
          p.then(done, done);
        }
        return p;
      },
    };
    const seen = new Map<object, number>();
    const prevCpu = new Map<object, number>();
    const lastCols = new Map<object, ArrayBufferLike>();
    const timedKernel: Pick<Kernel, 'load' | 'info'> = {
      info: (c) => kernel.info(c),
      load: async (c, limits) => {
        const sb = await kernel.load(c, limits);
        const decideKept = sb.decideKept.bind(sb);
        sb.decideKept = async (params, window, state, config) => {
          const sym = byClose.get(window.close[window.close.length - 1]!);
          const m = sym ? marks.get(sym) : undefined;
          if (m) m.decideIn = hrNow();
          const cpu0 = sb.cpuMs;
          decisions++;
          const nth = (seen.get(sb) ?? 0) + 1;
          seen.set(sb, nth);
          const newCols = lastCols.get(sb) !== window.close.buffer;
          lastCols.set(sb, window.close.buffer);
          if (sb.decisionMode === 'sync') syncDecisions++;
          else offThread.push(`minute ${minute} ${sym ?? '?'}: decision #${nth} of its sandbox, the one before took ${(prevCpu.get(sb) ?? NaN).toFixed(2)} ms of isolate CPU, columns ${newCols ? 'new' : 'kept'}`);
          const out = await decideKept(params, window, state, config);
          if (m) m.decideOut = hrNow();
          decideCpu.push(sb.cpuMs - cpu0);
          prevCpu.set(sb, sb.cpuMs - cpu0);
          return out;
        };
        return sb;
      },
    };
    hb = new HeartbeatService({ db, log, emit: () => undefined, markets: async () => markets, clock: { now: () => sims.now() }, config: { wsUrl: sims.wsUrl, restUrl: sims.restUrl, backfillHours: 0, gapGraceMs: 3000 } });
    hb.onSignal((s: HeartbeatSignal) => {
      if (s.timeframe === '1m' && s.receivedAt !== null) receipts.set(s.symbol, s.receivedAt);
      if (BREAKDOWN && s.timeframe === '1m') {
        marks.set(s.symbol, { signal: hrNow() });
        byClose.set(Number(s.candle.close), s.symbol);
      }
    });
    const strategies = new StrategyService({ db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
    bot = new BotEngine({ db, bus: tr.bus, log, heartbeat: hb, orders: timed, brokers: tr.brokers, strategies, kernel: BREAKDOWN ? timedKernel : kernel, clock: { now: () => sims.now() }, hooks: BREAKDOWN ? { afterDecision: (d) => {
      const m = marks.get(symbolOf.get(d.activation_id) ?? '');
      if (m?.decideOut && d.kind === 'signal') stages.journal.push(hrNow() - m.decideOut);
    } } : undefined });
    const s = await strategies.create(tr.profileId, {
      name: 'Always long',
      code: `import { Strategy } from 'aristobot';\nexport default class AlwaysLong extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n}\n`,
    });
    await hb.start();
    for (;;) {
      const st = hb.status();
      if (st.connected && !st.backfilling && st.subscribed === N) break;
      await sleep(20);
    }
    await bot.start();
    const ids: string[] = [];
    for (const sym of Object.keys(symbols).slice(0, A)) {
      ids.push((await bot.create(tr.profileId, { strategyId: s.id, brokerId: tr.brokerId, symbol: sym, timeframe: '1m', budget: '1000' })).id);
      symbolOf.set(ids.at(-1)!, sym);
    }
    console.log(`bot bench: ${A} activations on ${A} of ${N} symbols, ${MINUTES} minutes, burst closings, Node ${process.version}`);
    console.log(IN_PROCESS ? 'simulators: IN THIS PROCESS (--sims in-process: their CPU is counted with the app\'s)' : `simulators: in a child process (the exchange and the stream are not the app's work)${SIMS_NICE ? ' at the lowest CPU priority (--sims-nice)' : ''}; this process is the app alone`);
    const simCpu: number[] = [];
    for (let m = 0; m < MINUTES; m++) {
      minute = m;
      const boundary = Math.floor(sims.now() / MIN) * MIN + MIN;
      const simCpu0 = await sims.cpuMs();
      const cpu0 = process.cpuUsage();
      const mark0 = process.hrtime.bigint() / 1000n;
      void sims.advance(boundary - sims.now() + 1000); // every closing message at once
      const want = m * A; // the first minute is the strategy's warm-up
      const until = Date.now() + 15_000;
      while (lat.length < want && Date.now() < until) await sleep(5);
      await bot.idle();
      const cpu = process.cpuUsage(cpu0);
      // with --cpu-prof: the burst's window on the profile's clock (µs, monotonic), to read that part alone
      if (process.env.BOT_BENCH_MARKS && m > 0) console.log(`mark ${mark0} ${process.hrtime.bigint() / 1000n}`);
      if (m > 0) burstCpu.push((cpu.user + cpu.system) / 1000);
      if (m > 0) simCpu.push((await sims.cpuMs()) - simCpu0);
      if (process.env.DBG) console.log(m, lat.length, JSON.stringify((await bot.decisions(tr.profileId, ids[0]!, 2)).map((d) => [d.action, d.reason, d.error])));
      // flat again for the next minute's opening decision (outside the measured path)
      for (const id of ids) await bot.sell(tr.profileId, id).catch(() => undefined);
      await sims.advance(28_000);
    }
    const decided = await db.withProfile(tr.profileId, async (c) => (await c.query<{ l: string }>("SELECT latency_ms::text AS l FROM bot_decisions WHERE kind = 'signal' AND latency_ms IS NOT NULL")).rows.map((r) => Number(r.l)));
    console.log(`receipt of the closing message → order request (opening decisions): n ${lat.length}, p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${pct(lat, 100).toFixed(2)} ms`);
    console.log(`receipt of the closing message → the order request leaving for the exchange (the order service's own checks and intent journal done, CCXT's createOrder next): n ${toExchange.length}, p50 ${pct(toExchange, 50).toFixed(2)} ms, p99 ${pct(toExchange, 99).toFixed(2)} ms`);
    console.log(`receipt of the closing message → the exchange's answer to the order (CCXT's rate limiter, the request, the simulated exchange's fill): n ${answered.length}, p50 ${pct(answered, 50).toFixed(2)} ms, p99 ${pct(answered, 99).toFixed(2)} ms`);
    console.log(`CPU per burst (user + system, until the engine is idle): this process (the app${IN_PROCESS ? ' AND the simulators' : ''}, all its threads) p50 ${pct(burstCpu, 50).toFixed(1)} ms, p99 ${pct(burstCpu, 99).toFixed(1)} ms${IN_PROCESS ? '' : `; the simulators' process p50 ${pct(simCpu, 50).toFixed(1)} ms`}`);
    if (BREAKDOWN) {
      const names = { signal: 'receipt → signal (heartbeat)', queue: 'signal → strategy called (engine)', decide: 'the strategy (sandbox)', order: 'decision → order request (plan)', journal: 'decision → journaled (beside the order)' };
      for (const o of offThread) console.log(`  off the calling thread: ${o}`);
      for (const [k, xs] of Object.entries(stages)) console.log(`  ${names[k as keyof typeof names].padEnd(38)} n ${xs.length}, p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms`);
      console.log(`  CPU: the isolate per decision p50 ${pct(decideCpu, 50).toFixed(3)} ms, p99 ${pct(decideCpu, 99).toFixed(3)} ms (${syncDecisions} of ${decisions} decisions on the calling thread); the process (all threads) per burst, until idle: p50 ${pct(burstCpu, 50).toFixed(1)} ms, p99 ${pct(burstCpu, 99).toFixed(1)} ms`);
    }
    console.log(`(the decisions journal's candle close → order request, simulated clock: n ${decided.length}, p50 ${pct(decided, 50).toFixed(0)} ms, p99 ${pct(decided, 99).toFixed(0)} ms)`);
  } catch (e) {
    console.error('bench failed:', e);
  } finally {
    await bot?.stop().catch(() => undefined);
    kernel.dispose();
    await hb?.stop().catch(() => undefined);
    await sims.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
