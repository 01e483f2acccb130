/**
 * Statistics bench: a year of generated fills (two brokers, manual / webhook / bot books, a round trip
 * every hour on each broker: ~35 000 fills) and hourly equity snapshots (~17 500), then every
 * statistics call timed on the bundled PostgreSQL. Target: each call < 500 ms. Also the cost of one
 * fill to the ledger, A/B alternated (a base rebuilt from its first fill vs the new fill applied to the
 * saved state).
 *
 *   npx tsx bench/stats.bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import type { Broker } from '../electron/exchanges/brokers';
import { silentLogger } from '../electron/log';
import { StatsQueries } from '../electron/stats/queries';
import { StatsService } from '../electron/stats/service';

const HOURS = 24 * 365;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-stats-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  let db: Database | undefined;
  try {
    db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log });
    const profileId = (await db.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('bench', 'x') RETURNING id")).rows[0]!.id;
    const brokers: Broker[] = [];
    for (const name of ['Main', 'Second']) {
      const id = await db.withProfile(profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ($1, 'binance', 'sec_x') RETURNING id", [name])).rows[0]!.id);
      brokers.push({ id, name, exchange: 'binance', testnet: false, isDefault: false, active: true, credentials: {}, createdAt: new Date().toISOString() } as unknown as Broker);
    }
    const start = Date.now() - HOURS * 3_600_000;
    const t0 = performance.now();
    await db.withProfile(profileId, async (c) => {
      for (const b of brokers) {
        await c.query(`INSERT INTO webhook_requests (id, http_status, status, sender) SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 200, 'processed', 'tv-' || (g % 3) FROM generate_series(1, 3) g ON CONFLICT DO NOTHING`);
        // one order + one fill per half hour: buy at :00, sell at :30 (same book), books rotating manual / webhook / bot
        await c.query(
          `WITH g AS (SELECT i, CASE i % 3 WHEN 0 THEN 'manual' WHEN 1 THEN 'webhook' ELSE 'strategy' END AS source,
                              CASE WHEN i % 2 = 0 THEN 'BTC/USDT' ELSE 'ETH/USDT' END AS symbol,
                              (CASE WHEN i % 2 = 0 THEN 30000 ELSE 2000 END * (1 + 0.2 * sin(i / 300.0)))::numeric(20, 2) AS price
                       FROM generate_series(0, $2::int - 1) i),
                s AS (SELECT g.*, side, to_timestamp($3::double precision / 1000 + i * 3600 + CASE side WHEN 'buy' THEN 0 ELSE 1800 END) AS at,
                             CASE side WHEN 'buy' THEN price ELSE (price * (1 + 0.01 * sin(i))) ::numeric(20, 2) END AS px
                        FROM g CROSS JOIN (VALUES ('buy'), ('sell')) v(side)),
                o AS (INSERT INTO orders (broker_id, exchange, source, source_ref, symbol, side, type, amount, client_order_id, status, filled, created_at)
                      SELECT $1, 'binance', source, CASE source WHEN 'webhook' THEN '00000000-0000-4000-8000-' || lpad((1 + i % 3)::text, 12, '0') WHEN 'strategy' THEN 'act-' || (i % 4) END,
                             symbol, side, 'market', 0.01, 'c' || i || side, 'filled', 0.01, at FROM s
                      RETURNING id, symbol, side, created_at)
           INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, executed_at)
           SELECT o.id, $1, 'binance', o.symbol, o.side, o.id::text, s.px, 0.01, s.px * 0.01, s.px * 0.00001, 'USDT', o.created_at
             FROM o JOIN s ON s.symbol = o.symbol AND s.side = o.side AND s.at = o.created_at`,
          [b.id, HOURS, start],
        );
        await c.query(
          `INSERT INTO equity_snapshots (broker_id, sandbox, taken_at, reason, currency, value, balances, flow_value)
           SELECT $1, false, to_timestamp($2::double precision / 1000 + h * 3600 + 1), 'hourly', 'USDT', (10000 + 500 * sin(h / 100.0) + CASE WHEN h > $3::int / 2 THEN 5000 ELSE 0 END)::numeric(20, 8),
                  jsonb_build_object('USDT', jsonb_build_object('total', '5000', 'price', '1', 'value', '5000'), 'BTC', jsonb_build_object('total', '0.1', 'price', (30000 * (1 + 0.2 * sin(h / 300.0)))::numeric(20, 2)::text, 'value', '3000')),
                  CASE WHEN h = $3::int / 2 + 1 THEN 5000 ELSE 0 END
             FROM generate_series(0, $3::int - 1) h`,
          [b.id, start, HOURS],
        );
      }
      await c.query('ANALYZE');
    });
    const fills = (await db.withProfile(profileId, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM order_fills'))).rows[0]!.n;
    const snaps = (await db.withProfile(profileId, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM equity_snapshots'))).rows[0]!.n;
    console.log(`generated ${fills} fills and ${snaps} snapshots in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const brokerAccess = { list: async () => brokers, get: async (_p: string, id: string) => brokers.find((b) => b.id === id)!, exchangeFor: async () => { throw new Error('no exchange in the bench'); } };
    const gateway = { info: () => ({ hasSandbox: false }) } as never;
    const stats = new StatsService({ db, brokers: brokerAccess as never, gateway, log, snapshotIntervalMs: 0, snapshotAtStart: false });
    for (const b of brokers) {
      const r0 = performance.now();
      const r = await stats.rebuild(profileId, b.id);
      console.log(`ledger rebuild (${b.name}): ${r.trades} trades, ${r.lots} open lots in ${(performance.now() - r0).toFixed(0)} ms (after a fill; not a statistics call)`);
    }
    // The cost of one fill, A/B back to back on the same data (the machine is shared: alternate, take medians).
    // A (before): the fill's base asset rebuilt from its first fill — what every fill cost before the
    //   ledger was kept between fills; measured here by recording a fill OLDER than the last one, which
    //   takes that path (rebuilt-base).
    // B (now): a new fill, later than every other, applied to the saved state (incremental).
    const b0 = brokers[0]!;
    let n = 0;
    const oneFill = async (at: Date): Promise<void> => {
      n++;
      await db!.withProfile(profileId, async (c) => {
        const o = (await c.query<{ id: string }>("INSERT INTO orders (broker_id, exchange, source, symbol, side, type, amount, client_order_id, status, filled, created_at) VALUES ($1, 'binance', 'manual', 'BTC/USDT', $2, 'market', 0.001, $3, 'filled', 0.001, $4) RETURNING id", [b0.id, n % 2 ? 'buy' : 'sell', `bench-${n}`, at])).rows[0]!;
        await c.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, executed_at) VALUES ($1, $2, 'binance', 'BTC/USDT', $3, $4, 30000, 0.001, 30, 0.03, 'USDT', $5)", [o.id, b0.id, n % 2 ? 'buy' : 'sell', `bench-${n}`, at]);
      });
    };
    const aTimes: number[] = [];
    const bTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      await oneFill(new Date(start + (i + 1) * 86_400_000 + 17_000)); // an old fill: its base rebuilt
      let a = performance.now();
      const ra = await stats.rebuild(profileId, b0.id, ['BTC/USDT']);
      aTimes.push(performance.now() - a);
      await oneFill(new Date(Date.now() + i * 1000)); // the newest fill: applied alone
      a = performance.now();
      const rb = await stats.rebuild(profileId, b0.id, ['BTC/USDT']);
      bTimes.push(performance.now() - a);
      if (ra.mode !== 'rebuilt-base' || rb.mode !== 'incremental') throw new Error(`unexpected paths: ${ra.mode}, ${rb.mode}`);
    }
    const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
    console.log(`per fill, A/B alternated 5 times (shared machine: medians): A base rebuilt from its first fill ${med(aTimes).toFixed(0)} ms  ·  B new fill applied to the saved ledger ${med(bTimes).toFixed(0)} ms  (A ${aTimes.map((x) => x.toFixed(0)).join('/')}, B ${bTimes.map((x) => x.toFixed(0)).join('/')})`);

    const q = new StatsQueries({ db, brokers: brokerAccess as never, gateway, stats });
    const calls: [string, () => Promise<unknown>][] = [];
    for (const period of ['all', 'year', '30d', '7d', 'today'] as const) {
      calls.push([`stats.summary ${period}`, () => q.summary(profileId, { period })]);
      calls.push([`stats.equity ${period} day`, () => q.equity(profileId, { period, interval: 'day' })]);
      calls.push([`stats.equity ${period} hour`, () => q.equity(profileId, { period, interval: 'hour' })]);
      calls.push([`stats.bySource ${period}`, () => q.breakdown(profileId, { period }, 'book')]);
      calls.push([`stats.bySymbol ${period}`, () => q.breakdown(profileId, { period }, 'symbol')]);
      calls.push([`stats.trades ${period}`, () => q.trades(profileId, { period, limit: 2000 })]);
    }
    calls.push(['stats.summary all, one broker', () => q.summary(profileId, { period: 'all', brokerId: brokers[0]!.id })]);
    calls.push(['stats.trades all, webhook', () => q.trades(profileId, { period: 'all', source: 'webhook', limit: 2000 })]);
    calls.push(['stats.export all', () => q.exportCsv(profileId, { period: 'all' })]);
    let worst = 0;
    for (const [name, fn] of calls) {
      await fn(); // warm
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const a = performance.now();
        await fn();
        times.push(performance.now() - a);
      }
      const med = times.sort((x, y) => x - y)[1]!;
      worst = Math.max(worst, med);
      console.log(`${name.padEnd(34)} ${med.toFixed(1).padStart(8)} ms (median of 3)`);
    }
    console.log(`slowest call: ${worst.toFixed(1)} ms — target < 500 ms: ${worst < 500 ? 'met' : 'NOT met'}`);
  } finally {
    await db?.close();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
