import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors';
import type { Text } from '../../shared/i18n';
import type { Logger } from '../log';
import type { CheckReply, CheckRequest } from './check-serve';
import { checkStrategy, MAX_CODE_LENGTH, type CheckResult } from './validate';

/**
 * The strategy check (validate.ts: the TypeScript compiler in memory) off the core's event loop.
 * One warm worker thread (check-worker.ts), started at the first check and kept: TypeScript's
 * library stays parsed there, so later checks are as quick as before, while the heartbeat, the
 * webhooks and the bot keep running during a check. Checks are queued and run one at a time.
 * A check that takes longer than `timeoutMs` (counted from when the worker has the compiler and its
 * library loaded) gets `strategy_timeout` and its worker is terminated and replaced; a worker that dies (an uncaught error, out of memory) fails the check in flight
 * with `unavailable` and is replaced for the next one. `stop()` terminates it.
 */

export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_HEAP_MB = 1024;
/** Loading TypeScript and parsing its library in a new worker (seconds on a loaded machine): not a check's time. */
const START_TIMEOUT_MS = 120_000;

export interface CheckerOptions {
  /** Longest a check may take before its worker is terminated and replaced (ms). */
  timeoutMs?: number;
  /** The worker's heap limit (MB): a check that needs more fails with `unavailable`, the core is unaffected. */
  maxHeapMb?: number;
  /** The worker's entry file; default: check-worker.ts beside this file (check-worker.js in a build). */
  entry?: URL;
  log?: Logger;
}

interface Job {
  id: number;
  code: string;
  resolve: (r: CheckResult) => void;
  reject: (e: Error) => void;
}

/**
 * Where the worker's code is: beside this module. Run from source (tsx: `npm run serve`, the tests,
 * the benches) that is check-worker.ts; in the electron-vite build, out/main/check-worker.js (its own
 * entry in electron.vite.config.ts, every chunk of the main process in that one folder).
 */
export function defaultWorkerEntry(base = import.meta.url): URL {
  return new URL(new URL(base).pathname.endsWith('.ts') ? './check-worker.ts' : './check-worker.js', base);
}

/**
 * A `.ts` entry (run from source) is loaded through tsx's ESM hooks, registered inside the worker
 * first: Node 20 does not apply `--import tsx` (nor the hooks of a parent run by tsx) to a worker's
 * own entry file. A built `.js` entry is loaded as it is.
 */
function workerSource(entry: URL): { src: string | URL; eval: boolean } {
  if (!entry.pathname.endsWith('.ts')) return { src: entry, eval: false };
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return { src: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, eval: true };
}

export class StrategyChecker {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The current worker has loaded the compiler and TypeScript's library (it said `ready`). */
  private ready = false;
  private nextId = 1;
  private stopped = false;
  private readonly timeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly entry: URL;
  /** Worker threads started so far (a replaced worker counts again). */
  workersStarted = 0;

  constructor(private readonly o: CheckerOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    this.startTimeoutMs = Math.max(START_TIMEOUT_MS, this.timeoutMs);
    this.maxHeapMb = o.maxHeapMb ?? DEFAULT_MAX_HEAP_MB;
    this.entry = o.entry ?? defaultWorkerEntry();
  }

  /** Type-check a strategy's source and apply the strategy rules (validate.ts), in the worker. */
  check(code: string): Promise<CheckResult> {
    if (this.stopped) return Promise.reject(new AppError('unavailable', 'errors.strategies.strategyCheckerStoppedApp'));
    // Too long: answered here at once (nothing to compile), and megabytes never cross to the worker.
    if (code.length > MAX_CODE_LENGTH) return Promise.resolve(checkStrategy(code));
    return new Promise<CheckResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, code, resolve, reject });
      this.pump();
    });
  }

  /** Checks waiting or running. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Terminate the worker; checks still queued or running get `unavailable`. */
  async stop(): Promise<void> {
    this.stopped = true;
    const err = new AppError('unavailable', 'errors.strategies.strategyCheckerStoppedApp2');
    if (this.current) this.finish(this.current.id, (j) => j.reject(err));
    for (const j of this.queue.splice(0)) j.reject(err);
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private spawn(): Worker {
    const { src, eval: isEval } = workerSource(this.entry);
    const w = new Worker(src, { eval: isEval, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    this.workersStarted++;
    this.ready = false;
    w.on('message', (m: CheckReply) => {
      if (w !== this.worker) return;
      if ('ready' in m) {
        this.ready = true;
        if (this.current) this.send(this.current);
        return;
      }
      if ('error' in m) this.finish(m.id, (j) => j.reject(new AppError('internal', 'errors.strategies.strategyCheckFailed', { error: m.error })));
      else this.finish(m.id, (j) => j.resolve(m.result));
    });
    w.on('error', (e: Error & { code?: string }) => {
      if (w !== this.worker) return;
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.o.log?.error({ err: e.message, code: e.code }, 'the strategy checker worker failed; replaced');
      this.lose(w, oom ? { key: 'coreLast.checker.outOfMemory', params: { memoryMb: this.maxHeapMb } } : { key: 'coreLast.checker.crashed', params: { reason: e.message } });
    });
    w.on('exit', (exitCode) => {
      if (w !== this.worker) return;
      this.o.log?.error({ exitCode }, 'the strategy checker worker exited; replaced');
      this.lose(w, { key: 'coreLast.checker.exited', params: { code: exitCode } });
    });
    return w;
  }

  /** The worker died: the check in flight fails, the next one gets a new worker. */
  private lose(w: Worker, message: Text): void {
    this.worker = null;
    void w.terminate().catch(() => undefined);
    if (this.current) this.finish(this.current.id, (j) => j.reject(new AppError('unavailable', 'errors.strategies.checkerWasRestartedCheck', { message })));
    this.pump();
  }

  private finish(id: number, settle: (j: Job) => void): void {
    const j = this.current;
    if (!j || j.id !== id) return;
    this.current = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.worker?.unref(); // idle: a warm worker never keeps the process alive
    settle(j);
    this.pump();
  }

  private pump(): void {
    if (this.current || this.stopped) return;
    const j = this.queue.shift();
    if (!j) return;
    if (!this.worker) {
      try {
        this.worker = this.spawn();
      } catch (e) {
        j.reject(new AppError('unavailable', 'errors.strategies.strategyCheckerCouldNot', { reason: (e as Error).message }));
        this.pump();
        return;
      }
    }
    this.current = j;
    this.worker.ref();
    if (this.ready) this.send(j);
    else this.arm(j, this.startTimeoutMs, { key: 'coreLast.checker.noStart', params: { seconds: this.startTimeoutMs / 1000 } });
  }

  /** The check goes to the (ready) worker; the clock of its timeout starts now. */
  private send(j: Job): void {
    this.arm(j, this.timeoutMs, { key: 'coreLast.checker.tooLong', params: { seconds: this.timeoutMs / 1000 } });
    this.worker!.postMessage({ id: j.id, code: j.code } satisfies CheckRequest);
  }

  /** `what` by key (nested in the error, so it reads in the reader's language). */
  private arm(j: Job, ms: number, what: Text): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const stuck = this.worker;
      this.worker = null;
      if (stuck) void stuck.terminate().catch(() => undefined);
      this.o.log?.warn({ timeoutMs: ms }, 'a strategy check timed out; its worker was terminated and replaced');
      this.finish(j.id, (x) => x.reject(new AppError('strategy_timeout', 'errors.strategies.wasStoppedAristobotStrategy', { what })));
    }, ms);
  }
}
