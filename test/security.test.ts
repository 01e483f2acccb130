import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSandbox } from '../electron/trading/mode';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/** Issue 8 (security), over the real API: what one profile, or a caller without login, may touch or see. */
let t: TestHost;
let a: WsClient;
let b: WsClient;
let idA: string;
let idB: string;

beforeAll(async () => {
  t = await startTestHost();
  a = await t.client();
  b = await t.client();
  await a.call('profiles.create', { name: 'Alice', password: 'alice-pw-1' });
  await b.call('profiles.create', { name: 'Bob', password: 'bob-pw-12' });
  idA = (await a.call<{ profile: { id: string } }>('profiles.login', { name: 'Alice', password: 'alice-pw-1' })).profile.id;
  idB = (await b.call<{ profile: { id: string } }>('profiles.login', { name: 'Bob', password: 'bob-pw-12' })).profile.id;
}, 60_000);
afterAll(async () => {
  a?.close();
  b?.close();
  await t?.close();
});

const err = async (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string; details?: unknown }) => ({ code: e.code, message: e.message, details: e.details }));
const brokerOf = (profileId: string, name: string) =>
  t.host.services!.db.withProfile(profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ($1, 'binance', 'sec_none') RETURNING id", [name])).rows[0]!.id);

describe('testnet is per profile', () => {
  it('B switching testnet on and off leaves A’s mode (and A’s trading) unchanged; each header follows its own profile', async () => {
    await a.call('events.subscribe', { events: ['app.testnet.changed'] });
    await b.call('events.subscribe', { events: ['app.testnet.changed'] });
    const core = t.host.services!;
    const modeOf = (profileId: string) => currentSandbox(core.db, core.gateway, profileId, { testnet: false, exchange: 'binance' });

    expect(await b.call('app.testnet.set', { enabled: true })).toEqual({ enabled: true });
    expect((await b.waitForEvent('app.testnet.changed')).data).toEqual({ enabled: true });
    expect(await b.call('app.testnet.get')).toEqual({ enabled: true });
    expect(await a.call('app.testnet.get')).toEqual({ enabled: false });
    expect(await modeOf(idA)).toBe(false);
    expect(await modeOf(idB)).toBe(true);

    // A switches on, B switches off: A stays on testnet (not moved to real money by B).
    await a.call('app.testnet.set', { enabled: true });
    await b.call('app.testnet.set', { enabled: false });
    expect(await a.call('app.testnet.get')).toEqual({ enabled: true });
    expect(await modeOf(idA)).toBe(true);
    expect(await modeOf(idB)).toBe(false);
    await a.call('app.testnet.set', { enabled: false });
    // A never heard B's switches (events are scoped to the profile).
    expect(a.events.filter((e) => e.event === 'app.testnet.changed').map((e) => e.data)).toEqual([{ enabled: true }, { enabled: false }]);

    // Without login the mode is live (nobody's switch shows), and it cannot be set.
    const anon = await t.client();
    expect(await anon.call('app.testnet.get')).toEqual({ enabled: false });
    expect(await err(anon.call('app.testnet.set', { enabled: true }))).toMatchObject({ code: 'unauthenticated' });
    anon.close();
  });
});

describe('settings.update {defaultBrokerId}', () => {
  it('refuses another profile’s broker, and changes nothing', async () => {
    const foreign = await brokerOf(idA, 'A-broker');
    const own = await brokerOf(idB, 'B-broker');
    expect(await b.call('settings.update', { defaultBrokerId: own })).toMatchObject({ defaultBrokerId: own });
    const e = await err(b.call('settings.update', { defaultBrokerId: foreign, theme: 'light' }));
    expect(e).toMatchObject({ code: 'invalid_input', details: { issues: [{ path: 'defaultBrokerId' }] } });
    expect(await b.call('settings.get')).toMatchObject({ defaultBrokerId: own, theme: 'dark' });
    // an id that is nobody's broker either
    expect(await err(b.call('settings.update', { defaultBrokerId: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ code: 'invalid_input' });
    // The foreign key backs it up below the service: no row may name another profile's broker.
    await expect(t.host.services!.db.withProfile(idB, (c) => c.query('UPDATE profile_settings SET default_broker_id = $1', [foreign]))).rejects.toThrow(/profile_settings_default_broker_fkey/);
    // Deleting the broker clears the default.
    await t.host.services!.db.withProfile(idB, (c) => c.query('DELETE FROM brokers WHERE id = $1', [own]));
    expect(await b.call('settings.get')).toMatchObject({ defaultBrokerId: null });
  });
});
