import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadMigrations, migrate } from '../electron/db/migrate';
import { silentLogger } from '../electron/log';
import { createTestDb, MIGRATIONS_DIR } from './support/db';

/**
 * Migration 0005 (the mode of journal rows, fills and positions) upgrading a database that already
 * holds trading data, run — like an external database's owner — by a role that is NOT a superuser,
 * so the tables' forced Row-Level Security applies to the migration itself.
 */

const suffix = randomBytes(5).toString('hex');
const ROLE = `trading_mig_${suffix}`;
const DB = `trading_mig_${suffix}`;
let admin: pg.Client;
let owner: pg.Client;

beforeAll(async () => {
  // The app role (granted to by 0001) exists once any database was opened the app's way.
  await (await createTestDb()).close();
  const clusterUrl = inject('pgOwnerUrl');
  admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'mig-pw' NOSUPERUSER NOBYPASSRLS CREATEROLE`);
  await admin.query(`CREATE DATABASE ${DB} OWNER ${ROLE}`);
  const u = new URL(clusterUrl);
  u.username = ROLE;
  u.password = 'mig-pw';
  u.pathname = `/${DB}`;
  owner = new pg.Client({ connectionString: u.toString() });
  await owner.connect();
}, 60_000);
afterAll(async () => {
  await owner?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin?.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin?.end();
});

/** Runs `fn` in a transaction as `profileId` (what RLS lets through). */
async function asProfile<T>(profileId: string, fn: () => Promise<T>): Promise<T> {
  await owner.query('BEGIN');
  try {
    await owner.query("SELECT set_config('aristobot.profile_id', $1, true)", [profileId]);
    const out = await fn();
    await owner.query('COMMIT');
    return out;
  } catch (e) {
    await owner.query('ROLLBACK');
    throw e;
  }
}

describe('migration 0005 on a database with trading data', () => {
  it('marks the rows of testnet brokers as sandbox rows, in every profile, and keys everything per mode', async () => {
    const files = await loadMigrations(MIGRATIONS_DIR);
    expect(files.map((f) => f.name)).toContain('0005_trading_mode.sql');
    await migrate(owner, files.filter((f) => f.id <= 4), silentLogger());

    // Two profiles, each with a testnet broker and a live one, each with an order, a fill and a position.
    const profiles: string[] = [];
    for (const name of ['p1', 'p2']) {
      const id = (await owner.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ($1, 'x') RETURNING id", [name])).rows[0]!.id;
      profiles.push(id);
      await asProfile(id, async () => {
        for (const testnet of [true, false]) {
          const broker = (await owner.query<{ id: string }>("INSERT INTO brokers (name, exchange, testnet, secret_ref) VALUES ($1, 'binance', $2, 'sec_x') RETURNING id", [testnet ? 'T' : 'L', testnet])).rows[0]!.id;
          const order = (await owner.query<{ id: string }>(
            "INSERT INTO orders (broker_id, exchange, source, symbol, side, type, client_order_id, exchange_order_id, status, filled) VALUES ($1, 'binance', 'manual', 'BTC/USDT', 'buy', 'market', 'c-1', '42', 'filled', 1) RETURNING id",
            [broker],
          )).rows[0]!.id;
          await owner.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, executed_at) VALUES ($1, $2, 'binance', 'BTC/USDT', 'buy', 't-1', 60000, 1, 60000, now())", [order, broker]);
          await owner.query("INSERT INTO positions (broker_id, exchange, symbol, base, quote, quantity) VALUES ($1, 'binance', 'BTC/USDT', 'BTC', 'USDT', 1)", [broker]);
        }
      });
    }

    expect(await migrate(owner, files, silentLogger())).toEqual(files.filter((f) => f.id > 4).map((f) => f.id));

    for (const id of profiles) {
      await asProfile(id, async () => {
        const q = async (table: string) =>
          (await owner.query<{ testnet: boolean; sandbox: boolean }>(`SELECT b.testnet, t.sandbox FROM ${table} t JOIN brokers b ON b.id = t.broker_id ORDER BY b.testnet`)).rows.map((r) => [r.testnet, r.sandbox]);
        for (const table of ['orders', 'order_fills', 'positions']) {
          expect(await q(table)).toEqual([
            [false, false],
            [true, true],
          ]);
        }
      });
    }
    expect((await owner.query("SELECT current_setting('aristobot.profile_id', true) AS p")).rows[0]!.p || null).toBeNull();

    // The same client order id, exchange order id, trade id and position on the other mode's account are other rows.
    await asProfile(profiles[0]!, async () => {
      const broker = (await owner.query<{ id: string }>("SELECT id FROM brokers WHERE testnet")).rows[0]!.id;
      const order = (await owner.query<{ id: string }>(
        "INSERT INTO orders (broker_id, exchange, source, symbol, side, type, client_order_id, exchange_order_id, status, sandbox) VALUES ($1, 'binance', 'manual', 'BTC/USDT', 'buy', 'market', 'c-1', '42', 'open', false) RETURNING id",
        [broker],
      )).rows[0]!.id;
      await owner.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, executed_at, sandbox) VALUES ($1, $2, 'binance', 'BTC/USDT', 'buy', 't-1', 60000, 1, 60000, now(), false)", [order, broker]);
      await owner.query("INSERT INTO positions (broker_id, exchange, symbol, base, quote, quantity, sandbox) VALUES ($1, 'binance', 'BTC/USDT', 'BTC', 'USDT', 1, false)", [broker]);
    });
    // …while within one mode they stay unique.
    await expect(
      asProfile(profiles[0]!, () => owner.query("INSERT INTO orders (broker_id, exchange, source, symbol, side, type, client_order_id, status, sandbox) SELECT id, 'binance', 'manual', 'BTC/USDT', 'buy', 'market', 'c-1', 'open', true FROM brokers WHERE testnet")),
    ).rejects.toThrow(/orders_client_order_id_key/);
    await expect(asProfile(profiles[0]!, () => owner.query("INSERT INTO positions (broker_id, exchange, symbol, base, quote, sandbox) SELECT id, 'binance', 'BTC/USDT', 'BTC', 'USDT', true FROM brokers WHERE testnet"))).rejects.toThrow(/positions_pkey/);
  });
});

describe('migration 0007 (every fee currency) on a database with trading data', () => {
  const DB6 = `${DB}_fees`;
  let c6: pg.Client;
  beforeAll(async () => {
    await admin.query(`CREATE DATABASE ${DB6} OWNER ${ROLE}`);
    const u = new URL(inject('pgOwnerUrl'));
    u.username = ROLE;
    u.password = 'mig-pw';
    u.pathname = `/${DB6}`;
    c6 = new pg.Client({ connectionString: u.toString() });
    await c6.connect();
  });
  afterAll(async () => {
    await c6?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${DB6}`);
  });

  it("fills' fees per currency (or the one fee kept) become the order's list, in every profile", async () => {
    const files = await loadMigrations(MIGRATIONS_DIR);
    const money = files.find((f) => f.name.endsWith('_money.sql'))!;
    await migrate(c6, files.filter((f) => f.id < money.id), silentLogger());
    const tx = async <T>(profileId: string, fn: () => Promise<T>): Promise<T> => {
      await c6.query('BEGIN');
      await c6.query("SELECT set_config('aristobot.profile_id', $1, true)", [profileId]);
      const out = await fn();
      await c6.query('COMMIT');
      return out;
    };
    const ids: Record<string, { profile: string; both: string; single: string; none: string }> = {};
    for (const name of ['p1', 'p2']) {
      const profile = (await c6.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ($1, 'x') RETURNING id", [name])).rows[0]!.id;
      ids[name] = await tx(profile, async () => {
        const broker = (await c6.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ('B', 'binance', 'sec_x') RETURNING id")).rows[0]!.id;
        const order = async (client: string, fee: string | null, cur: string | null) =>
          (await c6.query<{ id: string }>(
            "INSERT INTO orders (broker_id, exchange, source, symbol, side, type, client_order_id, status, filled, fee, fee_currency) VALUES ($1, 'binance', 'manual', 'BTC/USDT', 'sell', 'market', $2, 'filled', 0.01, $3, $4) RETURNING id",
            [broker, client, fee, cur],
          )).rows[0]!.id;
        // The old journal kept only the answer's first currency (BNB) for this one.
        const both = await order('c-both', '0.0005', 'BNB');
        const fill = (trade: string, fee: string, cur: string, at: string) =>
          c6.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, executed_at) VALUES ($1, $2, 'binance', 'BTC/USDT', 'sell', $3, 60000, 0.005, 300, $4, $5, $6)", [both, broker, trade, fee, cur, at]);
        await fill('t-1', '0.0005', 'BNB', '2026-01-01T00:00:00Z');
        await fill('t-2', '0.3', 'USDT', '2026-01-01T00:00:01Z');
        return { profile, both, single: await order('c-single', '0.61', 'USDT'), none: await order('c-none', null, null) };
      });
    }
    expect(await migrate(c6, files, silentLogger())).toEqual(files.filter((f) => f.id >= money.id).map((f) => f.id));
    for (const name of ['p1', 'p2']) {
      const p = ids[name]!;
      const fees = await tx(p.profile, async () => Object.fromEntries((await c6.query<{ id: string; fees: unknown }>('SELECT id, fees FROM orders')).rows.map((r) => [r.id, r.fees])));
      expect(fees[p.both]).toEqual([
        { cost: '0.0005', currency: 'BNB' },
        { cost: '0.3', currency: 'USDT' },
      ]);
      expect(fees[p.single]).toEqual([{ cost: '0.61', currency: 'USDT' }]);
      expect(fees[p.none]).toEqual([]);
    }
  });
});
