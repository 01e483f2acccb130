/**
 * The app side of bench/webhooks.bench.ts, in its own process (as in the app, where the listener never
 * shares its process with the sender): the bundled PostgreSQL, the real Database and WebhookService
 * with its listener. Processing (the exchange) is held back for the whole run, so what is measured is
 * the listener's own work: receive → check → journal (committed) → answer, plus the `processing`
 * status each accepted request then gets (as in the app). Driven by the parent over IPC:
 *   { op: 'cpu' }            → this process's CPU (µs), PostgreSQL's (server processes, µs) and the counters
 *   { op: 'count', prefix }  → distinct alert ids journaled with that prefix, and rows per status
 *   { op: 'direct', conc, total } → receive() called directly (no HTTP), `conc` in flight
 *   { op: 'journal', size, rounds } → batches of `size` receipts straight into a JournalBatcher, the
 *     one-round-trip path and the general path (four round trips) alternating batch by batch (same
 *     conditions): wall time per batch (median, p90) and CPU of this process and PostgreSQL per receipt
 *   { op: 'stop' }
 *   { op: 'profile', file } → starts the V8 CPU profiler (file null), or stops it and writes the profile to `file`
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { EventBus } from '../electron/events';
import type { Broker } from '../electron/exchanges/brokers';
import { silentLogger } from '../electron/log';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { JournalBatcher } from '../electron/webhooks/batch';
import { WebhookService, type WebhookServiceOptions } from '../electron/webhooks/service';
import type { NewRequest } from '../electron/webhooks/store';

type Msg = { op: 'journal'; size: number; rounds: number } | { op: 'profile'; file: string | null } | { op: 'cpu' } | { op: 'count'; prefix: string } | { op: 'direct'; conc: number; total: number; body: string } | { op: 'stop' };

/** CPU (user + system, µs) of the PostgreSQL server: the postmaster and every process it started. */
async function postgresCpu(pgDir: string): Promise<number> {
  const master = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state ppid … utime(14th overall → index 11 here) stime(12) cutime(13) cstime(14)
    if (Number(p) === master || Number(f[1]) === master) total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * tick;
  }
  return total;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-wh-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  let db: Database | undefined;
  let svc: WebhookService | undefined;
  let release: () => void = () => undefined;
  const stop = async (): Promise<void> => {
    release();
    await svc?.listener.stop();
    await db?.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
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
    const { secret, token } = await svc.secret(profileId);
    const pgDir = join(dir, 'pg');
    const service = svc;
    const database = db;
    let session: Session | null = null;
    let scans = 0;
    process.on('message', (m: Msg) => {
      void (async () => {
        if (m.op === 'profile') {
          // m.file null: start the V8 CPU profiler; else stop it and write the profile there
          if (m.file === null) {
            session = new Session();
            session.connect();
            await session.post('Profiler.enable');
            await session.post('Profiler.setSamplingInterval', { interval: 200 });
            await session.post('Profiler.start');
          } else if (session) {
            const { profile } = await session.post('Profiler.stop');
            await writeFile(m.file, JSON.stringify(profile));
            session.disconnect();
            session = null;
          }
          process.send!({ op: 'profile' });
        } else if (m.op === 'journal') {
          const batcher = new JournalBatcher(database);
          const rec = (id: string): NewRequest => ({
            senderIp: '127.0.0.1', contentType: 'text/plain', alertId: id, dedupeKey: id, action: 'BuyMarket', symbol: 'BINANCE:BTCUSDT', market: null, brokerId: null, brokerName: 'Sim',
            sender: null, payload: { id, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', action: 'BuyMarket', price: '60000', amount: '0.001', interval: '5' }, raw: null, httpStatus: 202, status: 'received', reason: null,
          });
          const paths = {
            oneTrip: (id: string) => batcher.receipt(profileId, rec(id), async () => null),
            general: (id: string) => batcher.insert(profileId, rec(id), async (_c, r) => r), // a general follow-up: the general path (four round trips)
          };
          const acc = { oneTrip: { ms: [] as number[], app: 0, pg: 0 }, general: { ms: [] as number[], app: 0, pg: 0 } };
          let k = 0;
          for (let round = 0; round < m.rounds; round++) {
            for (const name of (round % 2 ? ['general', 'oneTrip'] : ['oneTrip', 'general']) as ('oneTrip' | 'general')[]) {
              // (reading /proc is outside the window of this process's CPU)
              const p0 = await postgresCpu(pgDir);
              const c0 = process.cpuUsage();
              const t0 = performance.now();
              await Promise.all(Array.from({ length: m.size }, () => paths[name](`journal-${name}-${k++}`)));
              acc[name].ms.push(performance.now() - t0);
              const c = process.cpuUsage(c0);
              acc[name].app += c.user + c.system;
              acc[name].pg += (await postgresCpu(pgDir)) - p0;
            }
          }
          const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))]!;
          const n = m.size * m.rounds;
          process.send!({ op: 'journal', ...Object.fromEntries(Object.entries(acc).map(([name, a]) => [name, { p50: q(a.ms, 0.5), p90: q(a.ms, 0.9), app: a.app / n, pg: a.pg / n }])) });
        } else if (m.op === 'cpu') {
          // this process's CPU less what reading /proc for PostgreSQL's has cost so far
          const s0 = process.cpuUsage();
          const pgNow = await postgresCpu(pgDir);
          const s1 = process.cpuUsage(s0);
          scans += s1.user + s1.system;
          const c = process.cpuUsage();
          process.send!({ op: 'cpu', app: c.user + c.system - scans, pg: pgNow, journal: service.journalCounters, listener: { ...service.listener.counters } });
        } else if (m.op === 'count') {
          const r = await database.withProfile(profileId, (c) =>
            c.query<{ alerts: number; rows: number; received: number; processing: number; duplicate: number; other: number }>(
              `SELECT count(DISTINCT alert_id)::int AS alerts, count(*)::int AS rows,
                      count(*) FILTER (WHERE status = 'received')::int AS received, count(*) FILTER (WHERE status = 'processing')::int AS processing,
                      count(*) FILTER (WHERE status = 'duplicate')::int AS duplicate, count(*) FILTER (WHERE status NOT IN ('received', 'processing', 'duplicate'))::int AS other
                 FROM webhook_requests WHERE alert_id LIKE $1`,
              [`${m.prefix}%`],
            ),
          );
          process.send!({ op: 'count', ...r.rows[0]! });
        } else if (m.op === 'direct') {
          const p0 = await postgresCpu(pgDir);
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          let k = 0;
          const oks = await Promise.all(
            Array.from({ length: m.conc }, async () => {
              let ok = 0;
              while (k < m.total) {
                const a = await service.receive({ token, ip: '127.0.0.1', peer: '127.0.0.1', contentType: 'text/plain', body: m.body.replace('ID', `direct${m.conc}-${k++}`) });
                if (a.status === 202) ok++;
              }
              return ok;
            }),
          );
          const ms = performance.now() - t0;
          const c = process.cpuUsage(c0);
          process.send!({ op: 'direct', ok: oks.reduce((a, b) => a + b, 0), ms, app: c.user + c.system, pg: (await postgresCpu(pgDir)) - p0 });
        } else {
          await stop();
          process.exit(0);
        }
      })().catch((e: unknown) => {
        console.error(e);
        process.exit(1);
      });
    });
    process.send!({ op: "ready", url, secret, pid: process.pid });
  } catch (e) {
    console.error(e);
    await stop();
    process.exit(1);
  }
}

void main();
