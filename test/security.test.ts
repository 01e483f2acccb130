import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSandbox } from '../electron/trading/mode';
import { translate } from '../shared/i18n';
import { wordField } from '../shared/i18n/wording';
import { startHeadlessServer, TokenBackoff } from '../electron/transport/headless';
import { startTestHost, WsClient, type TestHost } from './support/host';

/** Issue 8 (security), over the real API: what one profile, or a caller without login, may touch or see. */
let t: TestHost;
let a: WsClient;
let b: WsClient;
let idA: string;
let idB: string;
// An exchange that accepts connections and never answers: a markets update stays in progress.
let silent: Server;
const held: Socket[] = [];

beforeAll(async () => {
  silent = createServer((s) => held.push(s.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as { port: number }).port;
  process.env.ARISTOBOT_EXCHANGE_URL_binance = `http://127.0.0.1:${port}`;
  t = await startTestHost({ ARISTOBOT_EXCHANGE_TIMEOUT_MS: '5000' });
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
  for (const s of held) s.destroy();
  silent?.close();
  delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
});

const err = async (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string; key?: string; params?: Record<string, string>; details?: unknown }) => ({ code: e.code, message: e.message, key: e.key, params: e.params, details: e.details }));
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
    expect(e).toMatchObject({ code: 'invalid_input', details: { issues: [{ path: 'defaultBrokerId', key: 'errors.profiles.defaultBrokerMustOne' }] } });
    expect(wordField('fr', e!, 'defaultBrokerId')).toBe("Le broker par défaut doit être l'un des brokers de ce profil.");
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

describe('what a caller without login sees', () => {
  it('app.status: no data folder, database address or secrets message (a logged-in caller sees them)', async () => {
    const anon = await t.client();
    const s = await anon.call<{ state: string; dataDir: string; database: { mode: string; url: string }; secrets: { message: string } }>('app.status');
    expect(s.state).toBe('ready');
    expect(s.dataDir).toBe('');
    expect(s.database).toEqual({ mode: 'external', url: '' });
    expect(s.secrets.message).toBe('');
    expect(s.secrets).not.toHaveProperty('key');
    expect(JSON.stringify(s)).not.toContain(t.config.dataDir);
    const full = await a.call<{ dataDir: string; database: { url: string }; secrets: { message: string; key: string; params: Record<string, string> } }>('app.status');
    expect(full.dataDir).toBe(t.config.dataDir);
    // the secret store's state by key: the Account page words it in French
    expect(full.secrets.key).toMatch(/^coreRest\.secrets\./);
    expect(translate('en', full.secrets.key, full.secrets.params)).toBe(full.secrets.message);
    expect(translate('fr', full.secrets.key, full.secrets.params)).toMatch(/^(Les secrets sont conservés|Aucun trousseau|Le coffre)/);
    expect(full.database.url).toContain('127.0.0.1');
    anon.close();
  });

  it('markets.summary: no update in progress shows without login; another profile’s shows without its broker id or message', async () => {
    const broker = await brokerOf(idA, 'A-markets');
    expect(await a.call('markets.update', { brokerId: broker })).toMatchObject({ started: true, exchange: 'binance' });
    const anon = await t.client();
    type Summary = { loading: { exchange: string; brokerId: string; message: string | null }[] };
    expect((await anon.call<Summary>('markets.summary')).loading).toEqual([]);
    expect((await b.call<Summary>('markets.summary')).loading).toEqual([expect.objectContaining({ exchange: 'binance', brokerId: '', message: null })]);
    expect((await a.call<Summary>('markets.summary')).loading).toEqual([expect.objectContaining({ exchange: 'binance', brokerId: broker })]);
    expect(JSON.stringify(await anon.call('markets.summary'))).not.toContain(broker);
    anon.close();
    await a.call('markets.cancel', { exchange: 'binance' });
  });
});

describe('the login slowdown slows the guesser, not the owner', () => {
  it('five wrong passwords on one connection slow that connection; the owner on another connection gets in at once', async () => {
    const guesser = await t.client();
    const owner = await t.client();
    for (let i = 0; i < 5; i++) expect(await err(guesser.call('profiles.login', { name: 'Alice', password: `guess-${i}` }))).toMatchObject({ code: 'wrong_password' });
    expect(await err(guesser.call('profiles.login', { name: 'Alice', password: 'guess-5' }))).toMatchObject({ code: 'too_many_attempts' });
    expect(await owner.call('profiles.login', { name: 'Alice', password: 'alice-pw-1' })).toMatchObject({ profile: { id: idA } });
    // the guesser is still slowed, even with the right password (it cannot test guesses meanwhile)
    expect(await err(guesser.call('profiles.login', { name: 'Alice', password: 'alice-pw-1' }))).toMatchObject({ code: 'too_many_attempts' });
    guesser.close();
    owner.close();
  });
});

describe('wrong headless tokens are slowed down per remote address', () => {
  it('after five wrong tokens, the address waits (429 with Retry-After, the token not even looked at); then the right one gets in and clears the count', async () => {
    let now = 1_000_000;
    const server = await startHeadlessServer({ host: t.host, token: t.token, listenHost: '127.0.0.1', port: 0, rendererDir: t.config.rendererDir, backoff: new TokenBackoff(() => now) });
    const url = (token: string) => `ws://127.0.0.1:${server.port}/api?token=${encodeURIComponent(token)}`;
    try {
      for (let i = 0; i < 6; i++) await expect(WsClient.connect(url(`wrong-${i}`))).rejects.toThrow(/HTTP 401/);
      await expect(WsClient.connect(url(t.token))).rejects.toThrow(/HTTP 429/);
      await expect(WsClient.connect(url('wrong-again'))).rejects.toThrow(/HTTP 429/);
      now += 1001;
      const ok = await WsClient.connect(url(t.token));
      expect(await ok.call('session.current')).toBeNull();
      ok.close();
      // cleared: the next wrong token is just refused (401), not paused
      await expect(WsClient.connect(url('wrong-after'))).rejects.toThrow(/HTTP 401/);
      // A page of another site (foreign Origin) or a request without a token is refused without
      // counting: a web page failing on purpose cannot pause the owner's access.
      for (let i = 0; i < 10; i++) {
        await expect(WsClient.connect(url('wrong-from-a-site'), { Origin: 'http://evil.example' })).rejects.toThrow(/HTTP 401/);
        await expect(WsClient.connect(`ws://127.0.0.1:${server.port}/api`)).rejects.toThrow(/HTTP 401/);
      }
      const still = await WsClient.connect(url(t.token));
      still.close();
    } finally {
      await server.close();
    }
  });

  it('the pause doubles per further wrong token, up to a minute', () => {
    let now = 0;
    const b = new TokenBackoff(() => now);
    for (let i = 0; i < 5; i++) b.fail('x');
    expect(b.waitMs('x')).toBe(0);
    const waits = [];
    for (let i = 0; i < 9; i++) {
      b.fail('x');
      waits.push(b.waitMs('x'));
      now += b.waitMs('x');
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(b.waitMs('another address')).toBe(0);
  });
});
