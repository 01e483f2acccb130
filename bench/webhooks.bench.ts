/**
 * Webhook listener load benchmark (prints figures, asserts nothing): autocannon on loopback against
 * the real listener, journaling into the bundled PostgreSQL (synchronous commits, as the app runs).
 *
 *   npx tsx bench/webhooks.bench.ts [--seconds 10] [--connections 10] [--burst 50] [--profile out.cpuprofile]
 *
 * The app side (PostgreSQL, Database, WebhookService and its listener: bench/webhooks-listener.ts) runs
 * in a CHILD process, as in the app, where the sender is never in the listener's process; this
 * process only runs autocannon. On a 2-core machine the three (autocannon, listener, PostgreSQL)
 * still share the cores, so beside the wall-clock figures it prints the CPU per request of the
 * listener's process and of PostgreSQL, which do not depend on what else runs.
 *
 * Phase 1: sustained load of BuyMarket alerts with unique ids over keep-alive connections: requests
 * answered 202 (each one journaled and committed before its answer) per second, p50/p99 latency.
 * Phase 2: 10× a realistic burst (default 50 alerts at a bar close → 500 at once, one connection
 * each): every request answered and found in the journal (zero lost = every alert id answered 202
 * has its row, and no alert id has two). Processing (the exchange) is held back until the end.
 * Phase 3: the same accept path called directly in the child (no HTTP), 10 and 100 in flight.
 * Phase 4: the journal alone, batches of 5 and 25 receipts, the one-round-trip path and the general
 * path (four round trips here: BEGIN, set_config, INSERT, COMMIT) alternating batch by batch, so both
 * see the same machine: wall time per batch and CPU per receipt.
 * `--profile <file.cpuprofile>` writes the listener process's V8 CPU profile over phase 1 (open it in
 * Chrome's DevTools).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, burst: { type: 'string', default: '50' }, profile: { type: 'string' } } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const BURST = Number(args.burst) * 10;

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon(opts, (err, r) => (err ? rej(err) : res(r)));
  });
}

interface Cpu {
  app: number;
  pg: number;
  journal: { batches: number; jobs: number };
  listener: Record<string, number>;
}
interface Count {
  alerts: number;
  rows: number;
  received: number;
  processing: number;
  duplicate: number;
  other: number;
}

function ask<T>(child: ChildProcess, msg: object, op: string): Promise<T> {
  return new Promise((res) => {
    const on = (m: { op: string }) => {
      if (m.op !== op) return;
      child.off('message', on);
      res(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function main(): Promise<void> {
  const execArgv = ['--import', 'tsx'];
  const child = fork(resolve(import.meta.dirname, 'webhooks-listener.ts'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; secret: string; pid: number }>((res, rej) => {
    child.once('message', (m: { op: string; url: string; secret: string; pid: number }) => res(m));
    child.once('exit', (code) => rej(new Error(`the listener process ended (${code})`)));
  });
  try {
    const { url, secret } = ready;
    const body = JSON.stringify({ id: 'bench-ID', secret, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', action: 'BuyMarket', price: '60000', amount: '0.001', interval: '5' });
    let n = 0;
    // A unique alert id per request (autocannon's own idReplacement stalls here, so setupRequest does it);
    // the id comes first in the body, so its 'ID' is the first one (a random secret may contain 'ID').
    const unique = (tag: string): autocannon.Request[] => [{ method: 'POST', path: new URL(url).pathname, headers: { 'content-type': 'text/plain' }, setupRequest: (req) => ({ ...req, body: body.replace('ID', `${tag}-${++n}`) }) }];
    const cpu = () => ask<Cpu>(child, { op: 'cpu' }, 'cpu');
    const count = (prefix: string) => ask<Count>(child, { op: 'count', prefix }, 'count');
    const per = (a: Cpu, b: Cpu, reqs: number) => `listener process ${((b.app - a.app) / reqs).toFixed(0)} µs of CPU per request, PostgreSQL ${((b.pg - a.pg) / reqs).toFixed(0)} µs; group commit ${b.journal.jobs - a.journal.jobs} journal writes in ${b.journal.batches - a.journal.batches} transactions`;
    console.log(`webhooks bench: Node ${process.version}; listener in its own process (pid ${ready.pid}), autocannon here; ${SECONDS} s × ${CONNECTIONS} keep-alive connections, then a burst of ${BURST} requests at once`);
    console.log('measured: requests answered 202, each journaled and committed (synchronous commit) before its answer; then each one\'s "processing" status (its processing is held back)');

    await run({ url, requests: unique('warm'), connections: 4, amount: 400 }); // JIT, pool connections

    if (args.profile) await ask(child, { op: 'profile', file: null }, 'profile');
    const c0 = await cpu();
    const r = await run({ url, requests: unique('load'), connections: CONNECTIONS, duration: SECONDS });
    const c1 = await cpu();
    if (args.profile) await ask(child, { op: 'profile', file: resolve(args.profile) }, 'profile');
    console.log(
      `sustained: ${r['2xx']} accepted in ${r.duration.toFixed(1)} s = ${Math.round(r['2xx'] / r.duration)} req/s; latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; non-2xx ${r.non2xx} ${JSON.stringify(r.statusCodeStats ?? {})}, errors ${r.errors}, timeouts ${r.timeouts}`,
    );
    console.log(`  CPU: ${per(c0, c1, r['2xx'])}`);

    const b = await run({ url, requests: unique('burst'), connections: BURST, amount: BURST, timeout: 30 });
    const c2 = await cpu();
    console.log(`burst: ${BURST} at once → ${b['2xx']} accepted, non-2xx ${b.non2xx}, errors ${b.errors}, timeouts ${b.timeouts}; latency p50 ${b.latency.p50} ms, p99 ${b.latency.p99} ms, max ${b.latency.max} ms`);
    console.log(`  CPU: ${per(c1, c2, BURST)}`);

    const load = await count('bench-load-');
    const burst = await count('bench-burst-');
    console.log(`journal: sustained ${load.alerts} alerts journaled (${load.rows} rows) for ${r['2xx']} answered 202 (${load.alerts - r['2xx']} were in flight when the clock stopped)`);
    console.log(`         burst ${burst.alerts} alerts journaled (${burst.rows} rows: ${burst.processing} processing, ${burst.received} received, ${burst.duplicate} duplicate, ${burst.other} other) for ${b['2xx']} answered 202 of ${BURST} sent → lost: ${BURST - Math.min(burst.alerts, b['2xx'])}, doubled: ${burst.rows - burst.alerts}`);

    for (const conc of [10, 100]) {
      const total = 3000;
      const d = await ask<{ ok: number; ms: number; app: number; pg: number }>(child, { op: 'direct', conc, total, body }, 'direct');
      console.log(`direct receive() in the listener process (no HTTP), ${conc} in flight: ${d.ok} of ${total} accepted = ${Math.round(total / (d.ms / 1000))} req/s, ${Math.round(d.app / total)} µs of app CPU and ${Math.round(d.pg / total)} µs of PostgreSQL CPU per request`);
    }
    for (const size of [5, 25]) {
      type J = { p50: number; p90: number; app: number; pg: number };
      const j = await ask<{ oneTrip: J; general: J }>(child, { op: 'journal', size, rounds: 100 }, 'journal');
      const say = (x: J) => `${x.p50.toFixed(1)} ms per batch (p90 ${x.p90.toFixed(1)}), ${Math.round(x.app)} µs app + ${Math.round(x.pg)} µs PostgreSQL CPU per receipt`;
      console.log(`journal alone, batches of ${size}, alternating: one round trip ${say(j.oneTrip)}; general path ${say(j.general)}`);
    }
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (wall-clock figures are shared with whatever else runs; CPU per request is not)`);
  } finally {
    child.send({ op: 'stop' });
    await new Promise((res) => child.once('exit', res));
  }
  process.exit(0);
}

void main();
