/**
 * The exchange and stream simulators in a process of their own, for benchmarks that measure the
 * app's process alone (the real app never shares its process with the exchange or the stream).
 * The same simulators `npm run sim` starts (test/sim/exchange, test/sim/stream), driven over IPC:
 *
 *   const sims = await SimProcess.start({ symbols, exchangeSymbols, account, startTime, ... });
 *   await sims.advance(ms);   // the stream's clock; the messages due go out from the child
 *   sims.now();               // the stream's clock as last moved (kept in step in this process)
 *   await sims.close();
 *
 * Run as a script (forked by `SimProcess.start`), it starts the simulators from the options sent
 * in its first IPC message and answers each command.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PriceSeries, type SeriesSymbol } from '../test/sim/series';
import { startExchangeSim, type ExchangeSim } from '../test/sim/exchange/server';
import { StreamSimulator } from '../test/sim/stream/server';

export interface SimProcessOptions {
  seed: number;
  /** The stream's symbols (every watched one). */
  symbols: Record<string, SeriesSymbol>;
  /** The exchange's markets (a subset of `symbols` by name). */
  exchangeSymbols: string[];
  account: { apiKey: string; secret: string; balances: Record<string, string> };
  startTime: number;
  spreadMs?: number;
  updatesPerMinute?: number;
  /** The simulators' process at the lowest CPU priority (nice 19): on a machine with few cores they then yield to the app and its database, as a remote exchange would. */
  lowPriority?: boolean;
}

type Op = { op: 'advance'; ms: number } | { op: 'cpu' } | { op: 'close' };
type Command = Op & { id: number };
interface Reply {
  id: number;
  now?: number;
  cpuMs?: number;
  error?: string;
}
interface Ready {
  ready: true;
  exchangeUrl: string;
  wsUrl: string;
  restUrl: string;
  now: number;
}

export class SimProcess {
  private seq = 0;
  private clock: number;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly exchangeUrl: string,
    readonly wsUrl: string,
    readonly restUrl: string,
    now: number,
  ) {
    this.clock = now;
    child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m);
    });
    child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error('the simulators process exited'));
      this.waiting.clear();
    });
  }

  static async start(opts: SimProcessOptions): Promise<SimProcess> {
    const child = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (opts.lowPriority && child.pid !== undefined) setPriority(child.pid, 19);
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once('message', (m: Ready) => resolve(m));
      child.once('exit', (code) => reject(new Error(`the simulators process exited (${code}) before it was ready`)));
      child.send(opts);
    });
    return new SimProcess(child, ready.exchangeUrl, ready.wsUrl, ready.restUrl, ready.now);
  }

  private ask(c: Op): Promise<Reply> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...c, id });
    });
  }

  /** The stream's clock (moved here as soon as an advance is asked: the app sees the new time as the messages leave). */
  now(): number {
    return this.clock;
  }

  /** Moves the stream's clock forward; every message due in (now, now + ms] goes out from the child. */
  async advance(ms: number): Promise<void> {
    this.clock += ms;
    this.clock = (await this.ask({ op: 'advance', ms })).now!;
  }

  /** The simulators' process CPU (user + system) so far, in ms. */
  async cpuMs(): Promise<number> {
    return (await this.ask({ op: 'cpu' })).cpuMs!;
  }

  async close(): Promise<void> {
    await this.ask({ op: 'close' }).catch(() => undefined);
    if (this.child.exitCode === null) await new Promise((r) => this.child.once('exit', r));
  }
}

async function child(): Promise<void> {
  const opts = await new Promise<SimProcessOptions>((resolve) => process.once('message', (m: SimProcessOptions) => resolve(m)));
  const exchangeSymbols = Object.fromEntries(opts.exchangeSymbols.map((s) => [s, opts.symbols[s]!]));
  const ex: ExchangeSim = await startExchangeSim({ series: new PriceSeries(opts.seed, exchangeSymbols), accounts: [opts.account] });
  const stream = await StreamSimulator.start({ series: new PriceSeries(opts.seed, opts.symbols), startTime: opts.startTime, spreadMs: opts.spreadMs ?? 0, updatesPerMinute: opts.updatesPerMinute ?? 1 });
  process.on('message', (c: Command) => {
    void (async () => {
      try {
        if (c.op === 'advance') {
          stream.advance(c.ms);
          process.send!({ id: c.id, now: stream.now() } satisfies Reply);
        } else if (c.op === 'cpu') {
          const u = process.cpuUsage();
          process.send!({ id: c.id, cpuMs: (u.user + u.system) / 1000 } satisfies Reply);
        } else {
          await Promise.allSettled([stream.close(), ex.close()]);
          process.send!({ id: c.id } satisfies Reply, () => process.exit(0));
        }
      } catch (e) {
        process.send!({ id: c.id, error: e instanceof Error ? e.message : String(e) } satisfies Reply);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, exchangeUrl: ex.url, wsUrl: stream.wsUrl, restUrl: stream.restUrl, now: stream.now() } satisfies Ready);
}

if (process.argv.includes('--child')) {
  child().catch((e: unknown) => {
    console.error('simulators process failed:', e);
    process.exit(1);
  });
}
