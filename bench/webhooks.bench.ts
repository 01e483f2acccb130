/**
 * Webhook listener load benchmark (prints figures, asserts nothing): autocannon on loopback against
 * the real listener, journaling into the bundled PostgreSQL (synchronous commits, as the app runs).
 *
 *   npx tsx bench/webhooks.bench.ts [--seconds 10] [--connections 10] [--burst 50]
 *
 * Phase 1: sustained load of BuyMarket alerts with unique ids: accepted-and-journaled requests per
 * second, p50/p99 latency. Phase 2: 10× a realistic burst (default 50 alerts at a bar close → 500 at
 * once, one connection each): every request answered 202 and found in the journal (zero lost).
 * Processing (the exchange) is held back until the end, so the figures are those of the listener:
 * receive → check → journal (committed) → answer. Phase 3: the same accept path called directly
 * (no HTTP, no autocannon on the same thread), 10 and 100 in flight: requests per second and the
 * app's CPU per request. autocannon runs in this process, so phases 1–2 share one thread with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { EventBus } from '../electron/events';
import type { Broker } from '../electron/exchanges/brokers';
import { silentLogger } from '../electron/log';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { WebhookService, type WebhookServiceOptions } from '../electron/webhooks/service';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, burst: { type: 'string', default: '50' } } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const BURST = Number(args.burst) * 10;

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon(opts, (err, r) => (err ? rej(err) : res(r)));
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-wh-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  let db: Database | undefined;
  let svc: WebhookService | undefined;
  let release: () => void = () => undefined;
  try {
    db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log });
    const profileId = (await db.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('bench', 'x') RETURNING id")).rows[0]!.id;
    const brokerId = await db.withProfile(profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, is_default, secret_ref) VALUES ('Sim', 'binance', true, 'sec_x') RETURNING id")).rows[0]!.id);
    const broker: Broker = { id: brokerId, name: 'Sim', exchange: 'binance', testnet: false, paper: false, paperSlippage: '0', isDefault: true, active: true, credentials: {}, createdAt: new Date().toISOString() };
    const held = new Promise<never>((_, reject) => (release = () => reject(new Error('bench over'))));
    held.catch(() => undefined);
    const brokers: WebhookServiceOptions['brokers'] = { list: async () => [broker], exchangeFor: () => held };
    svc = new WebhookService({
      db, brokers, log, secrets: memorySecrets(), bus: new EventBus(),
      gateway: { run: (_id, _what, fn) => fn() },
      orders: { place: () => held, ticker: () => held, sync: async () => undefined, protect: () => held, settleProtection: () => held, cancelProtection: () => held },
      config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false },
    });
    await svc.start();
    const { url } = await svc.startListener(profileId);
    const { secret } = await svc.secret(profileId);
    // A unique alert id per request (autocannon's own idReplacement stalls here, so setupRequest does it).
    let n = 0;
    const unique = (tag: string): autocannon.Request[] => [{ method: 'POST', path: new URL(url).pathname, headers: { 'content-type': 'text/plain' }, setupRequest: (req) => ({ ...req, body: body.replace('ID', `${tag}-${++n}`) }) }];
    const body = JSON.stringify({ secret, id: 'bench-ID', broker: 'Sim', symbol: 'BINANCE:BTCUSDT', action: 'BuyMarket', price: '60000', amount: '0.001', interval: '5' });
    console.log(`webhooks bench: Node ${process.version}, ${SECONDS} s × ${CONNECTIONS} connections, then a burst of ${BURST} requests at once`);

    // warm-up (JIT, pool connections)
    await run({ url, requests: unique('warm'), connections: 4, amount: 400 });

    const r = await run({ url, requests: unique('load'), connections: CONNECTIONS, duration: SECONDS });
    console.log(
      `sustained: ${r['2xx']} accepted in ${r.duration.toFixed(1)} s = ${Math.round(r['2xx'] / r.duration)} req/s (avg ${Math.round(r.requests.average)}/s); latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`,
    );

    const b = await run({ url, requests: unique('burst'), connections: BURST, amount: BURST, timeout: 30 });
    console.log(`burst: ${BURST} at once → ${b['2xx']} accepted, non-2xx ${b.non2xx}, errors ${b.errors}, timeouts ${b.timeouts}; latency p50 ${b.latency.p50} ms, p99 ${b.latency.p99} ms, max ${b.latency.max} ms`);

    const count = async (prefix: string) => Number((await db!.withProfile(profileId, (c) => c.query<{ n: number }>('SELECT count(DISTINCT alert_id)::int AS n FROM webhook_requests WHERE alert_id LIKE $1', [`bench-${prefix}-%`]))).rows[0]!.n);
    const loadRows = await count('load');
    const burstRows = await count('burst');
    console.log(`journal: sustained ${loadRows} rows for ${r['2xx']} answers (${loadRows - r['2xx']} still in flight when the clock stopped); burst ${burstRows} rows for ${b['2xx']} answers of ${BURST} sent → lost: ${BURST - Math.min(burstRows, b['2xx'])}`);
    console.log(`group commit: ${svc.journalCounters.jobs} journal writes in ${svc.journalCounters.batches} transactions`);

    // Phase 3: the accept path without HTTP (and without autocannon sharing the thread): receive() called
    // directly, `conc` at a time: what the journal itself sustains, and the app's CPU per request.
    const token = new URL(url).pathname.split('/').at(-1)!;
    for (const conc of [10, 100]) {
      const total = 3000;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let k = 0;
      const answers = await Promise.all(
        Array.from({ length: conc }, async () => {
          let ok = 0;
          while (k < total) {
            const a = await svc!.receive({ token, ip: '127.0.0.1', peer: '127.0.0.1', contentType: 'text/plain', body: body.replace('ID', `direct${conc}-${k++}`) });
            if (a.status === 202) ok++;
          }
          return ok;
        }),
      );
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      console.log(`direct receive(), ${conc} in flight: ${answers.reduce((a, b) => a + b, 0)} of ${total} accepted = ${Math.round(total / (ms / 1000))} req/s, ${Math.round((cpu.user + cpu.system) / total)} µs of app CPU per request`);
    }
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (figures are shared with whatever else runs)`);
  } finally {
    release();
    await svc?.listener.stop();
    await db?.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  process.exit(0);
}

void main();
