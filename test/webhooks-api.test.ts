import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * The webhooks contract through the real core and WebSocket transport: profile-only access, the
 * listener on port 0, secret rotation (the old secret refused at once), the tunnel's bad inputs, the
 * filters' validation, each profile seeing only its own journal.
 */

let h: TestHost;
let c: WsClient;
type State = { running: boolean; url: string; port: number; tunnel: { hasToken: boolean; running: boolean; error: string | null }; restrictToTradingView: boolean };

beforeAll(async () => {
  h = await startTestHost({ ARISTOBOT_WEBHOOK_PORT: '0', ARISTOBOT_WEBHOOK_WATCH_MS: '0', ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'api-test-passphrase', ARISTOBOT_DATA_DIR: mkdtempSync(join(tmpdir(), 'aristobot-wh-api-')) });
  c = await h.client();
  await c.call('profiles.create', { name: 'A', password: 'pw-12345' });
  await c.call('profiles.create', { name: 'B', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'A', password: 'pw-12345' });
}, 60_000);
afterAll(async () => {
  c?.close();
  await h?.close();
});

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe('webhooks over the API', () => {
  it('needs a logged-in profile', async () => {
    const anon = await h.client();
    expect((await anon.request('webhooks.listener.get')).error?.code).toBe('unauthenticated');
    expect((await anon.request('webhooks.secret.get')).error?.code).toBe('unauthenticated');
    anon.close();
  });

  it('starts on a free port, rotates the secret (the old one refused at once), stops', async () => {
    const st = await c.call<State>('webhooks.listener.start');
    expect(st.running).toBe(true);
    expect(st.port).toBeGreaterThan(0);
    const { secret } = await c.call<{ secret: string; masked: string }>('webhooks.secret.get');
    expect((await post(st.url, { secret, action: 'PING' })).status).toBe(200);
    const rotated = await c.call<{ secret: string }>('webhooks.secret.rotate');
    expect(rotated.secret).not.toBe(secret);
    expect(await post(st.url, { secret, action: 'PING' })).toMatchObject({ status: 401, body: { reason: expect.stringMatching(/Wrong secret/) } });
    expect((await post(st.url, { secret: rotated.secret, action: 'PING' })).status).toBe(200);
    const list = await c.call<{ status: string; httpStatus: number }[]>('webhooks.list', { filters: { status: ['rejected'] } });
    expect(list.map((r) => r.httpStatus)).toEqual([401]);
    const stats = await c.call<{ received: number; processed: number; refused: number }>('webhooks.stats', { period: '24h' });
    expect(stats).toMatchObject({ received: 3, processed: 2, refused: 1 });
    const templates = await c.call<{ templates: { action: string; message: string }[] }>('webhooks.templates');
    expect(templates.templates.map((t) => t.action)).toEqual(['PING', 'BuyMarket', 'SellMarket', 'BuyLimit', 'SellLimit', 'MAJ']);
    expect(templates.templates.every((t) => JSON.parse(t.message).secret === rotated.secret)).toBe(true);
    const stopped = await c.call<State>('webhooks.listener.stop');
    expect(stopped.running).toBe(false);
    await expect(fetch(st.url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('bad inputs are refused with the reason and change nothing', async () => {
    const before = await c.call<State>('webhooks.listener.get');
    const cases: [string, unknown][] = [
      ['webhooks.tunnel.start', { authtoken: 'short' }],
      ['webhooks.tunnel.start', { authtoken: 'has spaces and ; semicolons 12345' }],
      ['webhooks.stats', { period: '1y' }],
      ['webhooks.list', { filters: { status: ['exploded'] } }],
      ['webhooks.list', { filters: { limit: 0 } }],
      ['webhooks.listener.restrict', { restrictToTradingView: 'yes' }],
      ['webhooks.templates', { brokerId: 'not-a-uuid' }],
    ];
    for (const [m, p] of cases) {
      const r = await c.request(m, p);
      expect(r.error?.code, `${m} ${JSON.stringify(p)}`).toBe('invalid_input');
      expect(r.error?.message).toMatch(/^Invalid input for webhooks\./);
    }
    expect(await c.call<State>('webhooks.listener.get')).toEqual(before);
    expect(before.tunnel.hasToken).toBe(false);
    // the tunnel without the listener, then without a token
    expect((await c.request('webhooks.tunnel.start')).error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Start the listener first/) });
    await c.call('webhooks.listener.start');
    expect((await c.request('webhooks.tunnel.start')).error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/No ngrok authtoken/) });
    expect((await c.call<State>('webhooks.listener.get')).running).toBe(true);
  });

  it('each profile sees only its own journal and has its own address', async () => {
    const a = await c.call<State>('webhooks.listener.get');
    await c.call('profiles.logout');
    await c.call('profiles.login', { name: 'B', password: 'pw-12345' });
    const b = await c.call<State>('webhooks.listener.get');
    expect(b.url).not.toBe(a.url);
    expect(await c.call('webhooks.list')).toEqual([]);
    const { secret } = await c.call<{ secret: string }>('webhooks.secret.get');
    // B's secret on A's address: refused (journaled for A, not B)
    expect((await post(a.url, { secret, action: 'PING' })).status).toBe(401);
    expect(await c.call('webhooks.list')).toEqual([]);
    await c.call('profiles.logout');
    await c.call('profiles.login', { name: 'A', password: 'pw-12345' });
  });
});
