import { parentPort } from 'node:worker_threads';
import { checkStrategy } from './validate';

/**
 * The strategy checker's worker side (check-worker.ts is the entry; checker.ts starts it): the
 * TypeScript compiler runs here, off the core's event loop, and keeps TypeScript's library parsed
 * between checks (validate.ts's cache lives in this thread). Messages: `{id, code}` in, `{id,
 * result}` or `{id, error}` out; `{ready: true}` once the compiler is loaded and warm.
 */
export interface CheckRequest {
  id: number;
  code: string;
}
export type CheckReply = { id: number; result: ReturnType<typeof checkStrategy> } | { id: number; error: string } | { ready: true };

const WARM_UP = "import { Strategy } from 'aristobot';\nexport default class W extends Strategy {\n  shouldLong() { return this.close[this.i] > this.open[this.i]; }\n  shouldShort() { return false; }\n}\n";

/** Answer checks on the parent port; `before` sees each request first (the tests' hostile worker). */
export function serve(before?: (m: CheckRequest) => void): void {
  const port = parentPort;
  if (!port) throw new Error('The strategy checker runs as a worker thread (electron/strategies/checker.ts starts it).');
  port.on('message', (m: CheckRequest) => {
    before?.(m);
    let reply: CheckReply;
    try {
      reply = { id: m.id, result: checkStrategy(m.code) };
    } catch (e) {
      reply = { id: m.id, error: (e as Error)?.message ?? String(e) };
    }
    port.postMessage(reply);
  });
  // Warm up before saying ready: the first check parses and binds TypeScript's library (the slow
  // part, seconds on a loaded machine), so a check's timeout counts only its own work.
  checkStrategy(WARM_UP);
  port.postMessage({ ready: true } satisfies CheckReply);
}
