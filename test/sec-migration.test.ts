import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadMigrations, migrate } from '../electron/db/migrate';
import { silentLogger } from '../electron/log';
import { createTestDb, MIGRATIONS_DIR } from './support/db';

/**
 * Migration 0006 (issue 8: testnet per profile, the default broker's owner) upgrading a database
 * that already has profiles, run by a role that is NOT a superuser (forced Row-Level Security applies).
 */

const suffix = randomBytes(5).toString('hex');
const ROLE = `sec_mig_${suffix}`;
const DB = `sec_mig_${suffix}`;
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

describe('migration 0006 on a database with profiles', () => {
  it('every existing profile keeps the app-wide testnet mode; a default broker of another profile is cleared; new profiles start live', async () => {
    const files = await loadMigrations(MIGRATIONS_DIR);
    const mine = files.find((f) => /_sec\.sql$/.test(f.name))!;
    await migrate(owner, files.filter((f) => f.id < mine.id), silentLogger());
    await owner.query("INSERT INTO app_settings (key, value) VALUES ('testnet', 'true'::jsonb)");
    const ids: string[] = [];
    const brokers: string[] = [];
    for (const name of ['p1', 'p2']) {
      const id = (await owner.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ($1, 'x') RETURNING id", [name])).rows[0]!.id;
      ids.push(id);
      await asProfile(id, async () => {
        await owner.query('INSERT INTO profile_settings DEFAULT VALUES');
        brokers.push((await owner.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ('B', 'binance', 'sec_x') RETURNING id")).rows[0]!.id);
      });
    }
    // p1 names its own broker, p2 names p1's (what the unchecked settings.update allowed).
    await asProfile(ids[0]!, () => owner.query('UPDATE profile_settings SET default_broker_id = $1', [brokers[0]]));
    await asProfile(ids[1]!, () => owner.query('UPDATE profile_settings SET default_broker_id = $1', [brokers[0]]));

    await migrate(owner, files.filter((f) => f.id <= mine.id), silentLogger());

    const settingsOf = (id: string) => asProfile(id, async () => (await owner.query<{ testnet: boolean; default_broker_id: string | null }>('SELECT testnet, default_broker_id FROM profile_settings')).rows[0]);
    expect(await settingsOf(ids[0]!)).toEqual({ testnet: true, default_broker_id: brokers[0] });
    expect(await settingsOf(ids[1]!)).toEqual({ testnet: true, default_broker_id: null });
    expect((await owner.query("SELECT count(*)::int AS n FROM app_settings WHERE key = 'testnet'")).rows[0]!.n).toBe(0);
    const p3 = (await owner.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('p3', 'x') RETURNING id")).rows[0]!.id;
    await asProfile(p3, () => owner.query('INSERT INTO profile_settings DEFAULT VALUES'));
    expect(await settingsOf(p3)).toEqual({ testnet: false, default_broker_id: null });
    await expect(asProfile(p3, () => owner.query('UPDATE profile_settings SET default_broker_id = $1', [brokers[1]]))).rejects.toThrow(/profile_settings_default_broker_fkey/);
  });
});
