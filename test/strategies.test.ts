import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodOutput } from '../shared/contract';
import { asOwner } from './support/db';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * Strategies through the real API (WebSocket → core → PostgreSQL with RLS): create from templates,
 * save versions, refuse code that does not compile (nothing saved), duplicates, renames, deletes,
 * and other profiles' strategies staying invisible.
 */

type Detail = MethodOutput<'strategies.get'>;
type Version = MethodOutput<'strategies.versions'>[number];
type Template = MethodOutput<'strategies.templates'>[number];

let t: TestHost;
let c: WsClient;
let other: WsClient;

beforeAll(async () => {
  t = await startTestHost();
  c = await t.client();
  await c.call('profiles.create', { name: 'Alice', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Alice', password: 'pw-12345' });
  await c.call('events.subscribe', { events: ['strategies.changed'] });
  other = await t.client();
  await other.call('profiles.create', { name: 'Bob', password: 'pw-12345' });
  await other.call('profiles.login', { name: 'Bob', password: 'pw-12345' });
}, 60_000);
afterAll(async () => {
  c?.close();
  other?.close();
  await t?.close();
});

const err = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: Error & { code?: string; details?: unknown }) => ({ code: e.code, message: e.message, details: e.details as { diagnostics?: { line: number; column: number; message: string }[] } }),
  );
/** Every strategy and version row, as the database owner sees them (RLS bypassed). */
const dbState = () =>
  asOwner(t.db.ownerUrl, async (o) => ({
    strategies: (await o.query('SELECT id, profile_id, name, description, timeframe, current_version, updated_at FROM strategies ORDER BY id')).rows,
    versions: (await o.query('SELECT id, strategy_id, version, code, js, params, warmup FROM strategy_versions ORDER BY strategy_id, version')).rows,
  }));

const GOOD = `import { Strategy, ta } from 'aristobot';
export default class Cross extends Strategy {
  static params = { n: { default: 5, min: 2, max: 50, label: 'Period' } };
  static warmup = 10;
  ma!: Float64Array;
  init() { this.ma = ta.sma(this.close, this.params.n); }
  shouldLong() { return this.crossover(this.close, this.ma); }
  shouldShort() { return this.crossunder(this.close, this.ma); }
}
`;

describe('strategies API', () => {
  it('lists the templates, base first, each with its params', async () => {
    const ts = await c.call<Template[]>('strategies.templates');
    expect(ts.map((x) => x.id)).toEqual(['base', 'bollinger-breakout', 'ema-cross', 'rsi-mean-reversion']);
    expect(ts.find((x) => x.id === 'ema-cross')).toMatchObject({ name: 'EMA cross', params: { fast: { default: 12 }, slow: { default: 26 } } });
    for (const x of ts) expect(x.description.length).toBeGreaterThan(10);
  });

  it('creates from a template (version 1, params extracted, JavaScript stored) and lists it', async () => {
    const s = await c.call<Detail>('strategies.create', { name: 'My EMA', template: 'ema-cross' });
    expect(s).toMatchObject({ name: 'My EMA', version: 1, warmup: 30, params: { fast: { default: 12 } }, description: '', timeframe: null });
    expect(s.code).toContain('class EmaCross extends Strategy');
    const { versions } = await dbState();
    const v = versions.find((x) => x.strategy_id === s.id);
    expect(v.js).toMatch(/exports\.default = EmaCross/);
    const list = await c.call<Detail[]>('strategies.list');
    expect(list.map((x) => x.name)).toContain('My EMA');
    expect(list.find((x) => x.id === s.id)).not.toHaveProperty('code');
    expect((await c.waitForEvent('strategies.changed')).data).toEqual({ id: s.id, action: 'created' });
  });

  it('creates from the base template by default, or from code', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Plain' });
    expect(a.code).toContain('@name Base template');
    const b = await c.call<Detail>('strategies.create', { name: 'From code', code: GOOD, description: 'SMA', timeframe: '1h' });
    expect(b).toMatchObject({ code: GOOD, params: { n: { default: 5, min: 2, max: 50, label: 'Period' } }, warmup: 10, description: 'SMA', timeframe: '1h' });
  });

  it('checks code without saving: diagnostics with line and column, and params', async () => {
    const before = await dbState();
    const ok = await c.call<MethodOutput<'strategies.check'>>('strategies.check', { code: GOOD });
    expect(ok).toMatchObject({ ok: true, diagnostics: [], params: { n: { default: 5 } }, warmup: 10 });
    const bad = await c.call<MethodOutput<'strategies.check'>>('strategies.check', { code: GOOD.replace('this.crossover', 'this.crossovr') });
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics).toEqual([expect.objectContaining({ line: 7, column: 30, message: expect.stringMatching(/crossovr/) })]);
    expect(await dbState()).toEqual(before);
  });

  it('saves new code as a new version; the same code again makes none; old versions stay readable', async () => {
    const s = await c.call<Detail>('strategies.create', { name: 'Versioned', code: GOOD });
    const v2code = GOOD.replace('default: 5', 'default: 7');
    const u = await c.call<Detail>('strategies.update', { id: s.id, code: v2code });
    expect(u).toMatchObject({ version: 2, code: v2code, params: { n: { default: 7 } } });
    const same = await c.call<Detail>('strategies.update', { id: s.id, code: v2code, description: 'same code' });
    expect(same).toMatchObject({ version: 2, description: 'same code' });
    const versions = await c.call<Version[]>('strategies.versions', { id: s.id });
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(versions[1]).toMatchObject({ params: { n: { default: 5 } }, size: GOOD.length });
    const old = await c.call<Detail>('strategies.get', { id: s.id, version: 1 });
    expect(old).toMatchObject({ version: 1, code: GOOD });
    expect((await c.call<Detail>('strategies.get', { id: s.id })).version).toBe(2);
    expect(await err(c.call('strategies.get', { id: s.id, version: 9 }))).toMatchObject({ code: 'not_found' });
  });

  it('refuses code that does not compile with the diagnostics, and saves nothing', async () => {
    const s = await c.call<Detail>('strategies.create', { name: 'Guarded', code: GOOD });
    const before = await dbState();
    const cases: [string, RegExp][] = [
      [GOOD.replace('this.crossover', 'this.crossovr'), /line 7, column 30: .*crossovr/],
      [`import fs from 'fs';\n${GOOD}`, /line 1, column 16: Only 'aristobot' may be imported/],
      [GOOD.replace('this.ma = ta.sma', "require('fs'); this.ma = ta.sma"), /line 6, column 12: `require` is not allowed/],
      [GOOD.replace('this.ma = ta.sma', "void import('fs'); this.ma = ta.sma"), /line 6, column 17: `import\(\)` is not allowed/],
      [GOOD.replace(' extends Strategy', ''), /must extend Strategy/],
      [GOOD.replace(/ {2}shouldShort\(\).*\n/, ''), /does not implement inherited abstract member '?shouldShort/],
      [GOOD.replace('{ default: 5, min: 2', '{ default: 1, min: 2'), /default \(1\) is below min \(2\)/],
    ];
    for (const [code, message] of cases) {
      const e = await err(c.call('strategies.update', { id: s.id, code, name: 'Renamed meanwhile', description: 'changed' }));
      expect(e, String(message)).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(message) });
      expect(e!.details!.diagnostics!.length).toBeGreaterThan(0);
    }
    const e = await err(c.call('strategies.create', { name: 'Broken', code: GOOD.replace('this.crossover', 'this.crossovr') }));
    expect(e).toMatchObject({ code: 'invalid_input', details: { diagnostics: [expect.objectContaining({ line: 7, column: 30 })] } });
    expect(await dbState()).toEqual(before);
  });

  it('refuses bad input to create: an unknown template, an empty name, oversized code', async () => {
    const before = await dbState();
    expect(await err(c.call('strategies.create', { name: 'X', template: 'nope' }))).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/No template "nope"/) });
    expect(await err(c.call('strategies.create', { name: '   ' }))).toMatchObject({ code: 'invalid_input' });
    expect(await err(c.call('strategies.create', { name: 'Big', code: 'x'.repeat(200_001) }))).toMatchObject({ code: 'invalid_input' });
    expect(await err(c.call('strategies.create', { name: 'Tf', timeframe: 'hourly' }))).toMatchObject({ code: 'invalid_input' });
    expect(await dbState()).toEqual(before);
  });

  it('refuses duplicate names (case-insensitive) on create and rename, changing nothing', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Unique One', code: GOOD });
    await c.call<Detail>('strategies.create', { name: 'Unique Two', code: GOOD });
    const before = await dbState();
    expect(await err(c.call('strategies.create', { name: 'unique one' }))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already exists/) });
    expect(await err(c.call('strategies.update', { id: a.id, name: 'UNIQUE TWO', code: GOOD.replace('default: 5', 'default: 6') }))).toMatchObject({ code: 'conflict' });
    expect(await err(c.call('strategies.duplicate', { id: a.id, name: 'Unique Two' }))).toMatchObject({ code: 'conflict' });
    expect(await dbState()).toEqual(before);
    // Another profile may use the same name.
    await expect(other.call('strategies.create', { name: 'Unique One' })).resolves.toMatchObject({ name: 'Unique One' });
  });

  it('renames', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Old name', code: GOOD });
    const r = await c.call<Detail>('strategies.update', { id: a.id, name: '  New name ' });
    expect(r).toMatchObject({ name: 'New name', version: 1 });
  });

  it('duplicates the current version as a new strategy: (copy), (copy 2)', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Orig', code: GOOD });
    await c.call('strategies.update', { id: a.id, code: GOOD.replace('default: 5', 'default: 8') });
    const d1 = await c.call<Detail>('strategies.duplicate', { id: a.id });
    const d2 = await c.call<Detail>('strategies.duplicate', { id: a.id });
    expect(d1).toMatchObject({ name: 'Orig (copy)', version: 1, params: { n: { default: 8 } } });
    expect(d2.name).toBe('Orig (copy 2)');
    expect(d1.id).not.toBe(a.id);
    const named = await c.call<Detail>('strategies.duplicate', { id: a.id, name: 'Variant' });
    expect(named.code).toBe(GOOD.replace('default: 5', 'default: 8'));
  });

  it('deletes a strategy and its versions', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Doomed', code: GOOD });
    await c.call('strategies.update', { id: a.id, code: GOOD.replace('default: 5', 'default: 9') });
    await expect(c.call('strategies.delete', { id: a.id })).resolves.toEqual({ ok: true });
    const { strategies, versions } = await dbState();
    expect(strategies.find((s) => s.id === a.id)).toBeUndefined();
    expect(versions.filter((v) => v.strategy_id === a.id)).toEqual([]);
    expect(await err(c.call('strategies.get', { id: a.id }))).toMatchObject({ code: 'not_found' });
  });

  it('answers not_found for an unknown id and for another profile\'s strategy, changing nothing', async () => {
    const mine = await c.call<Detail>('strategies.create', { name: 'Private', code: GOOD });
    const before = await dbState();
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const id of [unknown, mine.id]) {
      const who = id === mine.id ? other : c;
      for (const [m, p] of [
        ['strategies.get', { id }],
        ['strategies.versions', { id }],
        ['strategies.update', { id, name: 'Stolen' }],
        ['strategies.update', { id, code: GOOD }],
        ['strategies.duplicate', { id }],
        ['strategies.delete', { id }],
      ] as const) {
        expect(await err(who.call(m, p)), `${m} ${id}`).toMatchObject({ code: 'not_found' });
      }
    }
    expect(await err(c.call('strategies.get', { id: 'not-a-uuid' }))).toMatchObject({ code: 'invalid_input' });
    expect((await other.call<Detail[]>('strategies.list')).map((s) => s.name)).not.toContain('Private');
    expect(await dbState()).toEqual(before);
  });

  it('needs a logged-in profile', async () => {
    const anon = await t.client();
    try {
      expect(await err(anon.call('strategies.list'))).toMatchObject({ code: 'unauthenticated' });
      expect(await err(anon.call('strategies.check', { code: GOOD }))).toMatchObject({ code: 'unauthenticated' });
    } finally {
      anon.close();
    }
  });

  it('getVersion gives the backtester and the bot what they run (current or a given version)', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Runnable', code: GOOD });
    await c.call('strategies.update', { id: a.id, code: GOOD.replace('static warmup = 10', 'static warmup = 12') });
    const svc = t.host.services!.strategies;
    const profileId = (await asOwner(t.db.ownerUrl, (o) => o.query("SELECT id FROM profiles WHERE name = 'Alice'"))).rows[0].id as string;
    const cur = await svc.getVersion(profileId, a.id);
    expect(cur).toMatchObject({ strategyId: a.id, name: 'Runnable', version: 2, warmup: 12, params: { n: { default: 5 } } });
    expect(cur.js).toMatch(/exports\.default = Cross/);
    expect(cur.versionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await svc.getVersion(profileId, a.id, 1)).toMatchObject({ version: 1, warmup: 10, code: GOOD });
    await expect(svc.getVersion(profileId, a.id, 3)).rejects.toMatchObject({ code: 'not_found' });
    const bobId = (await asOwner(t.db.ownerUrl, (o) => o.query("SELECT id FROM profiles WHERE name = 'Bob'"))).rows[0].id as string;
    await expect(svc.getVersion(bobId, a.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keeps versions immutable in the database and each profile\'s rows behind RLS', async () => {
    const a = await c.call<Detail>('strategies.create', { name: 'Frozen', code: GOOD });
    const profileId = (await asOwner(t.db.ownerUrl, (o) => o.query("SELECT id FROM profiles WHERE name = 'Alice'"))).rows[0].id as string;
    await expect(t.db.db.withProfile(profileId, (cl) => cl.query("UPDATE strategy_versions SET code = 'x' WHERE strategy_id = $1", [a.id]))).rejects.toThrow(/immutable/);
    // Outside a profile nothing is visible.
    expect((await t.db.db.query('SELECT count(*)::int AS n FROM strategies')).rows[0]!.n).toBe(0);
    expect((await t.db.db.query('SELECT count(*)::int AS n FROM strategy_versions')).rows[0]!.n).toBe(0);
  });
});
