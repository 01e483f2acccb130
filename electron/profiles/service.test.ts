import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { silentLogger } from '../log';
import { createTestDb, type TestDb } from '../../test/support/db';
import { attemptDelayMs, GLOBAL_CAP, GLOBAL_WINDOW_MS, ProfileService } from './service';
import { hashPassword, verifyPassword } from './password';

let t: TestDb;
let clock = Date.UTC(2026, 10, 24, 12);
let svc: ProfileService;
beforeAll(async () => {
  t = await createTestDb();
  svc = new ProfileService(t.db, silentLogger(), () => clock);
});
afterAll(async () => t.close());

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof AppError ? e.code : `non-app: ${String(e)}`));

describe('passwords', () => {
  it('hashes with scrypt and a random salt; verifies only the right password', async () => {
    const a = await hashPassword('hunter22');
    const b = await hashPassword('hunter22');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter22');
    expect(await verifyPassword('hunter22', a)).toBe(true);
    expect(await verifyPassword('hunter23', a)).toBe(false);
    expect(await verifyPassword('hunter22', 'garbage')).toBe(false);
  });
});

describe('profiles', () => {
  it('creates, lists and logs in', async () => {
    const p = await svc.create('Alice', 'alice-pw');
    expect(p.name).toBe('Alice');
    expect((await svc.list()).map((x) => x.name)).toContain('Alice');
    const s = await svc.login('alice', 'alice-pw');
    expect(s.name).toBe('Alice');
    expect((await svc.getSettings(s.id)).theme).toBe('dark');
  });

  it('refuses a duplicate name (case-insensitive) with conflict, and changes nothing', async () => {
    const before = await svc.list();
    expect(await code(svc.create('ALICE', 'x-pw-1234'))).toBe('conflict');
    expect(await svc.list()).toEqual(before);
  });

  it('refuses a wrong password with "Wrong password" and changes nothing else', async () => {
    const { rows: before } = await t.db.query('SELECT password_hash, last_login_at FROM profiles WHERE name = $1', ['Alice']);
    await expect(svc.login('Alice', 'nope')).rejects.toMatchObject({ code: 'wrong_password', message: 'Wrong password' });
    const { rows: after } = await t.db.query('SELECT password_hash, last_login_at FROM profiles WHERE name = $1', ['Alice']);
    expect(after).toEqual(before);
    await svc.login('Alice', 'alice-pw'); // resets the counter
  });

  it('slows attempts after five wrong passwords in a row, then lets the right one in after the wait', async () => {
    await svc.create('Bob', 'bob-pw-1');
    for (let i = 0; i < 5; i++) expect(await code(svc.login('Bob', `wrong${i}`))).toBe('wrong_password');
    // the sixth attempt within the delay is refused without even checking the password
    expect(await code(svc.login('Bob', 'bob-pw-1'))).toBe('too_many_attempts');
    clock += attemptDelayMs(5) + 1;
    expect(await code(svc.login('Bob', 'wrong5'))).toBe('wrong_password');
    clock += 500; // the delay doubled to 2 s
    expect(await code(svc.login('Bob', 'bob-pw-1'))).toBe('too_many_attempts');
    clock += attemptDelayMs(6);
    expect(await code(svc.login('Bob', 'bob-pw-1'))).toBe('ok');
    // counter reset: a wrong password is just wrong again
    expect(await code(svc.login('Bob', 'wrong'))).toBe('wrong_password');
    expect(await code(svc.login('Bob', 'bob-pw-1'))).toBe('ok');
  });

  it('parallel guesses cannot bypass the slowdown', async () => {
    await svc.create('Dave', 'dave-pw-1');
    for (let i = 0; i < 5; i++) expect(await code(svc.login('Dave', `wrong${i}`))).toBe('wrong_password');
    clock += attemptDelayMs(5) + 1; // exactly one attempt is due now
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => code(svc.login('Dave', `guess${i}`))));
    expect(results.filter((r) => r === 'wrong_password')).toHaveLength(1);
    expect(results.filter((r) => r === 'too_many_attempts')).toHaveLength(29);
  });

  it('a slow guesser (one wrong password a minute) never refuses the owner’s right password on another connection', async () => {
    await svc.create('Erin', 'erin-pw-1');
    for (let i = 0; i < 12; i++) {
      expect(await code(svc.login('Erin', `guess${i}`, 'guesser'))).toBe('wrong_password');
      clock += 1000; // the owner comes by one second after a guess (inside the guesser's pause)
      expect(await code(svc.login('Erin', 'erin-pw-1', 'owner'))).toBe('ok');
      clock += 60_000;
    }
    // …while the guesser itself is slowed: at full speed its attempts are refused.
    expect(await code(svc.login('Erin', 'guess-x', 'guesser'))).toBe('wrong_password');
    expect(await code(svc.login('Erin', 'erin-pw-1', 'guesser'))).toBe('too_many_attempts');
  });

  it('many connections guessing together hit a global cap per profile, which lifts after its window', async () => {
    expect(GLOBAL_CAP).toBeGreaterThanOrEqual(20 * 5); // far above one connection's free attempts
    const capped = new ProfileService(t.db, silentLogger(), () => clock, { globalCap: 12, globalWindowMs: GLOBAL_WINDOW_MS });
    await capped.create('Fay', 'fay-pw-12');
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await code(capped.login('Fay', `guess${i}`, `conn-${i % 4}`)));
    expect(results.every((r) => r === 'wrong_password')).toBe(true);
    expect(await code(capped.login('Fay', 'fay-pw-12', 'fresh-connection'))).toBe('too_many_attempts');
    clock += GLOBAL_WINDOW_MS + 1;
    expect(await code(capped.login('Fay', 'fay-pw-12', 'fresh-connection'))).toBe('ok');
  });

  it('changes the password only with the current one', async () => {
    const s = await svc.login('Alice', 'alice-pw');
    expect(await code(svc.changePassword(s.id, 'bad', 'new-pw-123'))).toBe('wrong_password');
    await svc.changePassword(s.id, 'alice-pw', 'new-pw-123');
    expect(await code(svc.login('Alice', 'alice-pw'))).toBe('wrong_password');
    expect(await code(svc.login('Alice', 'new-pw-123'))).toBe('ok');
  });

  it('updates settings', async () => {
    const s = await svc.login('Alice', 'new-pw-123');
    expect(await svc.updateSettings(s.id, { theme: 'light' })).toMatchObject({ theme: 'light', timezone: 'local' });
    expect(await svc.updateSettings(s.id, { timezone: 'UTC' })).toMatchObject({ theme: 'light', timezone: 'UTC' });
  });

  it('keeps a language per profile: none (the system\'s) at first, then French, then none again', async () => {
    const s = await svc.login('Alice', 'new-pw-123');
    expect((await svc.getSettings(s.id)).language).toBeNull();
    expect(await svc.updateSettings(s.id, { language: 'fr' })).toMatchObject({ language: 'fr', theme: 'light' });
    // another preference leaves the language alone
    expect(await svc.updateSettings(s.id, { timezone: 'local' })).toMatchObject({ language: 'fr' });
    expect(await svc.updateSettings(s.id, { language: null })).toMatchObject({ language: null });
    await expect(svc.updateSettings(s.id, { language: 'de' as 'fr' })).rejects.toThrow();
    expect((await svc.getSettings(s.id)).language).toBeNull();
  });

  it('deletes with the password only, cascading to owned rows', async () => {
    await svc.create('Carol', 'carol-pw');
    const c = await svc.login('Carol', 'carol-pw');
    expect(await code(svc.delete('Carol', 'bad'))).toBe('wrong_password');
    expect((await svc.list()).some((p) => p.name === 'Carol')).toBe(true);
    await svc.delete('Carol', 'carol-pw');
    expect((await svc.list()).some((p) => p.name === 'Carol')).toBe(false);
    const { rows } = await t.db.withProfile(c.id, (q) => q.query('SELECT * FROM profile_settings'));
    expect(rows).toEqual([]);
    expect(await code(svc.login('Carol', 'carol-pw'))).toBe('not_found');
  });
});

describe('tenancy (Row-Level Security)', () => {
  it('profile A cannot read profile B rows, even through an unfiltered query', async () => {
    await svc.create('TenantA', 'pw-a-1234');
    await svc.create('TenantB', 'pw-b-1234');
    const a = await svc.login('TenantA', 'pw-a-1234');
    const b = await svc.login('TenantB', 'pw-b-1234');
    await svc.updateSettings(b.id, { theme: 'light' });
    const rows = await t.db.withProfile(a.id, async (c) => (await c.query('SELECT profile_id, theme FROM profile_settings')).rows);
    expect(rows).toEqual([{ profile_id: a.id, theme: 'dark' }]);
    // nor change them
    const upd = await t.db.withProfile(a.id, (c) => c.query("UPDATE profile_settings SET theme = 'dark' WHERE profile_id = $1", [b.id]));
    expect(upd.rowCount).toBe(0);
    expect((await svc.getSettings(b.id)).theme).toBe('light');
    // nor write rows in B's name
    await expect(t.db.withProfile(a.id, (c) => c.query('INSERT INTO profile_settings (profile_id) VALUES ($1)', [b.id]))).rejects.toThrow(/row-level security/);
  });

  it('a query outside a profile transaction sees no profile rows', async () => {
    const { rows } = await t.db.query('SELECT * FROM profile_settings');
    expect(rows).toEqual([]);
  });

  it('a pooled connection reused after a profile transaction carries no profile', async () => {
    const a = await svc.login('TenantA', 'pw-a-1234');
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('aristobot.profile_id', $1, true)", [a.id]);
      expect((await client.query('SELECT count(*) AS n FROM profile_settings')).rows[0].n).toBe(1);
      await client.query('COMMIT');
      // same physical connection, after the transaction
      const setting = (await client.query("SELECT current_setting('aristobot.profile_id', true) AS v")).rows[0].v;
      expect(setting === null || setting === '').toBe(true);
      expect((await client.query('SELECT count(*) AS n FROM profile_settings')).rows[0].n).toBe(0);
    } finally {
      client.release();
    }
  });
});
