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

  it("withProfile: one profile's rows, in one transaction; an id that is not a UUID is never part of a statement's text", async () => {
    const ids = await asOwner(t.ownerUrl, async (c) => {
      const mk = async (name: string) => (await c.query<{ id: string }>('INSERT INTO profiles (name, password_hash) VALUES ($1, $2) RETURNING id', [name, 'x'])).rows[0]!.id;
      return [await mk('wp-a'), await mk('wp-b')];
    });
    await t.db.withProfile(ids[0]!, (c) => c.query("INSERT INTO profile_settings (theme) VALUES ('light')"));
    await t.db.withProfile(ids[1]!, (c) => c.query("INSERT INTO profile_settings (theme) VALUES ('dark')"));
    // the setting is the transaction's: each call sees its own profile's row only, and none leaks to the next
    const seen = async (id: string) => t.db.withProfile(id, async (c) => (await c.query<{ p: string; themes: string[] }>("SELECT current_setting('aristobot.profile_id') AS p, ARRAY(SELECT theme FROM profile_settings) AS themes")).rows[0]!);
    expect(await seen(ids[0]!)).toEqual({ p: ids[0], themes: ['light'] });
    expect(await seen(ids[1]!)).toEqual({ p: ids[1], themes: ['dark'] });
    expect((await t.db.query<{ p: string | null }>("SELECT current_setting('aristobot.profile_id', true) AS p")).rows[0]!.p ?? '').toBe('');
    // a hostile id goes as a parameter: the setting is that text, nothing else ran
    const hostile = `${ids[0]}', true); SELECT set_config('aristobot.profile_id', '${ids[1]}`;
    expect(await t.db.withProfile(hostile, async (c) => (await c.query<{ p: string }>("SELECT current_setting('aristobot.profile_id') AS p")).rows[0]!.p)).toBe(hostile);
    // a failure rolls the whole transaction back
    await expect(
      t.db.withProfile(ids[0]!, async (c) => {
        await c.query("UPDATE profile_settings SET theme = 'dark'");
        await c.query('SELECT 1/0');
      }),
    ).rejects.toThrow(/division by zero/);
    expect((await seen(ids[0]!)).themes).toEqual(['light']);
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
