import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeGateway } from '../electron/exchanges/gateway';
import { silentLogger } from '../electron/log';
import { DEFAULT_SYMBOLS, PriceSeries, type SeriesSymbol } from './sim/series';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { asOwner } from './support/db';
import { startTestHost, type TestHost, type WsClient } from './support/host';

// Many markets, so that storing them takes several batches (atomicity and cancel are observable).
const EXTRA: Record<string, SeriesSymbol> = {};
for (let i = 0; i < 1400; i++) EXTRA[`T${i}/USDT`] = { base: 1 + i, priceDecimals: 4, volumeDecimals: 2 };
const SERIES = new PriceSeries(7, { ...DEFAULT_SYMBOLS, ...EXTRA });

const KEY = 'Ak3yForTests000000000000000000000000000000000000000000000000001a2b';
const SECRET = 'S3cretForTests0000000000000000000000000000000000000000000000canary';

let sim: ExchangeSim;
let t: TestHost;
let c: WsClient;

beforeAll(async () => {
  sim = await startExchangeSim({ series: SERIES, accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } }] });
  process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
  t = await startTestHost();
  c = await t.client();
  await c.call('profiles.create', { name: 'Ex', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Ex', password: 'pw-12345' });
}, 60_000);
afterAll(async () => {
  c?.close();
  await t?.close();
  await sim?.close();
});

const err = async (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string; details?: unknown }) => ({ code: e.code, message: e.message, details: e.details }));

describe('exchanges and brokers', () => {
  it('lists every CCXT exchange with its credential fields and sandbox support', async () => {
    const list = await c.call<{ id: string; requiredCredentials: string[]; hasSandbox: boolean }[]>('exchanges.list');
    expect(list.length).toBeGreaterThan(90);
    expect(list.find((e) => e.id === 'binance')).toMatchObject({ requiredCredentials: ['apiKey', 'secret'], hasSandbox: true });
    expect(list.find((e) => e.id === 'okx')?.requiredCredentials).toEqual(['apiKey', 'secret', 'password']);
    expect(list.find((e) => e.id === 'kraken')?.hasSandbox).toBe(false);
  });

  it('tests typed keys against the simulator through CCXT and shows the non-zero balances', async () => {
    const r = await c.call<{ balances: { asset: string; free: string; total: string }[] }>('brokers.test', { exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
    expect(r.balances).toEqual([
      { asset: 'BTC', free: '0.5', used: '0', total: '0.5' },
      { asset: 'USDT', free: '10000', used: '0', total: '10000' },
    ]);
    expect(await c.call('brokers.list')).toEqual([]); // nothing saved by a test
  });

  it('maps a wrong secret and an unknown key to exchange_auth with Binance’s code', async () => {
    const bad = await err(c.call('brokers.test', { exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET.replace('canary', 'wrong!') } }));
    expect(bad).toMatchObject({ code: 'exchange_auth' });
    expect(bad!.message).toMatch(/^binance refused the API key \(code -1022/);
    const unknown = await err(c.call('brokers.test', { exchange: 'binance', credentials: { apiKey: 'x'.repeat(64), secret: SECRET } }));
    expect(unknown?.code).toBe('exchange_auth');
    expect(unknown!.message).toMatch(/code -20(14|15)/);
    expect(JSON.stringify([bad, unknown])).not.toContain(SECRET);
  });

  it('refuses bad input field by field, before any exchange call', async () => {
    const before = sim.requestLog.length;
    const missing = await err(c.call('brokers.test', { exchange: 'binance', credentials: { apiKey: KEY } }));
    expect(missing?.code).toBe('invalid_input');
    expect((missing!.details as { issues: { path: string }[] }).issues).toEqual([expect.objectContaining({ path: 'credentials.secret' })]);
    expect((await err(c.call('brokers.create', { name: 'X', exchange: 'nosuchexchange', credentials: { apiKey: KEY, secret: SECRET } })))?.code).toBe('invalid_input');
    expect((await err(c.call('brokers.create', { name: 'K', exchange: 'kraken', credentials: { apiKey: KEY, secret: SECRET }, testnet: true })))?.message).toMatch(/no testnet/);
    expect(sim.requestLog.length).toBe(before);
    expect(await c.call('brokers.list')).toEqual([]);
  });

  it('saves a broker with its keys in the keychain only; the rest sees masks', async () => {
    const b = await c.call<{ id: string; isDefault: boolean; credentials: Record<string, string> }>('brokers.create', { name: 'Main', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
    expect(b.isDefault).toBe(true);
    expect(b.credentials).toEqual({ apiKey: '••••1a2b', secret: '••••' });
    expect((await err(c.call('brokers.create', { name: 'main', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })))?.code).toBe('conflict');
    const r = await c.call<{ balances: unknown[] }>('brokers.testSaved', { id: b.id });
    expect(r.balances.length).toBe(2);
  });

  it('keys never appear in the database, the API answers or the logs (canary)', async () => {
    const dump = await asOwner(t.db.ownerUrl, async (q) => {
      const tables = (await q.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.t);
      let all = '';
      for (const tb of tables) all += JSON.stringify((await q.query(`SELECT * FROM ${tb}`)).rows);
      return all;
    });
    expect(dump).toContain('••••1a2b'); // the dump really has the brokers table
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(KEY);
    const answers = JSON.stringify([await c.call('brokers.list'), await c.call('app.status')]);
    expect(answers).not.toContain(SECRET);
    expect(answers).not.toContain(KEY);
    const log = t.logText();
    expect(log).toContain('broker created');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(KEY);
  });

  it('updates markets in the background with progress, atomically', async () => {
    const list = await c.call<{ id: string }[]>('brokers.list');
    await c.call('events.subscribe', { events: ['markets.progress'] });
    await c.call('markets.update', { brokerId: list[0]!.id });
    const done = async () => {
      for (let i = 0; i < 200; i++) {
        const d = c.events.find((e) => e.event === 'markets.progress' && ['done', 'failed'].includes((e.data as { phase: string }).phase));
        if (d) return d.data as { phase: string; count: number };
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('markets update did not finish');
    };
    const first = await done();
    expect(first).toMatchObject({ phase: 'done', count: SERIES ? Object.keys(SERIES.symbols).length : 0 });
    const phases = c.events.filter((e) => e.event === 'markets.progress').map((e) => (e.data as { phase: string; percent: number }));
    expect(phases.some((p) => p.phase === 'storing' && p.percent > 40 && p.percent < 100)).toBe(true);
    const n = first.count;

    const btc = await c.call<{ total: number; markets: unknown[] }>('markets.list', { exchange: 'binance', search: 'btc/usdt' });
    expect(btc.markets[0]).toMatchObject({
      symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', type: 'spot', active: true,
      precision: { price: '0.01', amount: '0.00001' },
      limits: { amount: { min: '0.00001' }, cost: { min: '5' } },
    });
    expect((await c.call<{ total: number }>('markets.list', { exchange: 'binance', quote: 'USDC' })).total).toBe(1);
    expect((await c.call<{ exchanges: { count: number }[] }>('markets.summary')).exchanges[0]!.count).toBe(n);

    // a second update while a reader counts: it sees all rows every time, never an empty or half table
    c.events.length = 0;
    await c.call('markets.update', { brokerId: list[0]!.id });
    const counts = new Set<number>();
    let finished = false;
    const reader = (async () => {
      while (!finished) counts.add((await t.db.db.query<{ n: number }>("SELECT count(*) AS n FROM exchange_symbols WHERE exchange = 'binance'")).rows[0]!.n);
    })();
    await done();
    finished = true;
    await reader;
    expect([...counts]).toEqual([n]);
  });

  it('cancels an update: the previous markets stay', async () => {
    const core = t.host.services!;
    const profile = (await c.call<{ profile: { id: string } }>('session.current')).profile;
    const [b] = await core.brokers.list(profile.id);
    const before = (await core.markets.summary()).exchanges[0]!;
    const r = await core.markets.update(profile.id, b!.id);
    expect(r.started).toBe(true);
    expect(core.markets.cancel('binance')).toBe(true);
    await r.done;
    const after = (await core.markets.summary()).exchanges[0]!;
    expect(after).toEqual(before);
    expect((await t.db.db.query<{ n: number }>("SELECT count(*) AS n FROM exchange_symbols WHERE exchange = 'binance'")).rows[0]!.n).toBe(before.count);
  });

  it('the profile testnet mode is announced and kept', async () => {
    await c.call('events.subscribe', { events: ['app.testnet.changed'] });
    expect(await c.call('app.testnet.set', { enabled: true })).toEqual({ enabled: true });
    expect((await c.waitForEvent('app.testnet.changed')).data).toEqual({ enabled: true });
    expect(await c.call('app.testnet.get')).toEqual({ enabled: true });
    await c.call('app.testnet.set', { enabled: false });
  });

  it('default broker and deletion (keys removed from the keychain too)', async () => {
    const second = await c.call<{ id: string; isDefault: boolean }>('brokers.create', { name: 'Second', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
    expect(second.isDefault).toBe(false);
    await c.call('brokers.setDefault', { id: second.id });
    const list = await c.call<{ id: string; name: string; isDefault: boolean }[]>('brokers.list');
    expect(list.filter((b) => b.isDefault).map((b) => b.name)).toEqual(['Second']);
    const ref = (await asOwner(t.db.ownerUrl, (q) => q.query('SELECT secret_ref FROM brokers WHERE id = $1', [second.id]))).rows[0].secret_ref as string;
    const store = t.host.services!.secrets.store!;
    expect(await store.get(ref)).toContain(KEY);
    await c.call('brokers.delete', { id: second.id });
    expect(await store.get(ref)).toBeNull();
    const left = await c.call<{ name: string; isDefault: boolean }[]>('brokers.list');
    expect(left).toEqual([expect.objectContaining({ name: 'Main', isDefault: true })]);
    expect((await err(c.call('brokers.delete', { id: second.id })))?.code).toBe('not_found');
  });
});

describe('keys follow their broker and profile', () => {
  it('an update refused for its name changes neither the row nor the keys', async () => {
    const [main] = await c.call<{ id: string; name: string }[]>('brokers.list');
    const other = await c.call<{ id: string }>('brokers.create', { name: 'Other', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
    const ref = (await asOwner(t.db.ownerUrl, (q) => q.query('SELECT secret_ref FROM brokers WHERE id = $1', [other.id]))).rows[0].secret_ref as string;
    const store = t.host.services!.secrets.store!;
    const before = await store.get(ref);
    const r = await err(c.call('brokers.update', { id: other.id, name: main!.name, credentials: { apiKey: 'NEWKEY'.padEnd(64, '0'), secret: 'NEWSECRET'.padEnd(64, '0') } }));
    expect(r?.code).toBe('conflict');
    expect(await store.get(ref)).toBe(before);
    // an accepted update replaces them
    await c.call('brokers.update', { id: other.id, credentials: { apiKey: 'NEWKEY'.padEnd(64, '0'), secret: 'NEWSECRET'.padEnd(64, '0') } });
    expect(await store.get(ref)).toContain('NEWSECRET');
    await c.call('brokers.delete', { id: other.id });
  });

  it('deleting a profile deletes its brokers’ keys from the keychain', async () => {
    const d = await t.client();
    await d.call('profiles.create', { name: 'Leaving', password: 'pw-12345' });
    await d.call('profiles.login', { name: 'Leaving', password: 'pw-12345' });
    const b = await d.call<{ id: string }>('brokers.create', { name: 'Mine', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
    const ref = (await asOwner(t.db.ownerUrl, (q) => q.query('SELECT secret_ref FROM brokers WHERE id = $1', [b.id]))).rows[0].secret_ref as string;
    const store = t.host.services!.secrets.store!;
    expect(await store.get(ref)).not.toBeNull();
    expect((await err(d.call('profiles.delete', { name: 'Leaving', password: 'wrong' })))?.code).toBe('wrong_password');
    expect(await store.get(ref)).not.toBeNull();
    await d.call('profiles.delete', { name: 'Leaving', password: 'pw-12345' });
    expect(await store.get(ref)).toBeNull();
    expect((await asOwner(t.db.ownerUrl, (q) => q.query('SELECT count(*)::int AS n FROM brokers WHERE id = $1', [b.id]))).rows[0].n).toBe(0);
    d.close();
  });
});

describe('unreachable exchange', () => {
  let silent: Server;
  afterAll(() => silent?.close());

  it('says the exchange could not be reached, with the timeout', async () => {
    silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const gw = new ExchangeGateway({ log: silentLogger(), timeoutMs: 400, env: { ARISTOBOT_EXCHANGE_URL_binance: `http://127.0.0.1:${port}` } });
    const ex = gw.create('binance', { apiKey: KEY, secret: SECRET }, false);
    await expect(gw.run('binance', 'time', () => ex.fetchTime())).rejects.toMatchObject({ code: 'exchange_network', message: 'Could not reach binance (timeout after 400 ms).' });
    const closed = new ExchangeGateway({ log: silentLogger(), env: { ARISTOBOT_EXCHANGE_URL_binance: 'http://127.0.0.1:1' } });
    await expect(closed.run('binance', 'time', () => closed.create('binance', {}, false).fetchTime())).rejects.toMatchObject({ code: 'exchange_network', message: expect.stringContaining('Could not reach binance') });
  });
});
