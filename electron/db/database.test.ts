import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, asOwner, type TestDb } from '../../test/support/db';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t.close());

describe('database', () => {
  it('reads NUMERIC back as Decimal without float loss', async () => {
    const { rows } = await t.db.query<{ v: Decimal }>("SELECT '0.1'::numeric + '0.2'::numeric AS v");
    expect(rows[0]!.v).toBeInstanceOf(Decimal);
    expect(rows[0]!.v.toString()).toBe('0.3');
  });

  it('queries as a role that is not superuser, has no BYPASSRLS and owns nothing', async () => {
    const { rows } = await t.db.query<{ user: string; rolsuper: boolean; rolbypassrls: boolean }>(
      'SELECT current_user AS user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows[0]).toEqual({ user: 'aristobot_app', rolsuper: false, rolbypassrls: false });
    await expect(t.db.verifyAppRole()).resolves.toBeUndefined();
  });

  it('forces Row-Level Security with a policy on every table that has a profile_id column', async () => {
    const rows = await asOwner(t.ownerUrl, async (c) =>
      (
        await c.query<{ table: string; forced: boolean; enabled: boolean; policies: number }>(`
        SELECT c.relname AS table, c.relforcerowsecurity AS forced, c.relrowsecurity AS enabled,
               (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'profile_id'
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace`)
      ).rows,
    );
    expect(rows.length).toBeGreaterThan(0);
    // webhook_routes (token hash → profile) has a second, read-only policy: the webhook listener looks a
    // token up before it knows the profile; writes stay confined to the row's own profile.
    for (const r of rows) expect(r, r.table).toMatchObject({ forced: true, enabled: true, policies: r.table === 'webhook_routes' ? 2 : 1 });
  });

  it('cannot create tables or change the schema as the app role', async () => {
    await expect(t.db.query('CREATE TABLE evil (x int)')).rejects.toThrow(/permission denied/);
    await expect(t.db.query('ALTER TABLE profile_settings DISABLE ROW LEVEL SECURITY')).rejects.toThrow(/must be owner/);
  });
});

describe('redactUrl', () => {
  it('hides the password wherever the URL carries it', async () => {
    const { redactUrl } = await import('./database');
    expect(redactUrl('postgres://u:pw-1@h:5432/db')).toBe('postgres://u:****@h:5432/db');
    const q = redactUrl('postgres://u@h/db?password=pw-2&sslpassword=pw-3&application_name=x');
    expect(q).not.toMatch(/pw-2|pw-3/);
    expect(q).toContain('application_name=x');
    expect(redactUrl('not a url pw-4')).not.toContain('pw-4');
  });
});
