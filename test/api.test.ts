import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordField } from '../shared/i18n/wording';
import { asOwner } from './support/db';
import { startTestHost, WsClient, type TestHost } from './support/host';

let t: TestHost;
let c: WsClient;
beforeAll(async () => {
  t = await startTestHost();
  c = await t.client();
});
afterAll(async () => {
  c.close();
  await t.close();
});

const profileCount = async () => (await asOwner(t.db.ownerUrl, (q) => q.query('SELECT count(*)::int AS n FROM profiles'))).rows[0].n as number;

describe('headless transport', () => {
  it('refuses the socket without the token (401); the page holds no secret and needs none', async () => {
    const base = `http://127.0.0.1:${t.server.port}`;
    for (const path of ['/', '/?token=wrong']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).not.toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    await expect(WsClient.connect(`ws://127.0.0.1:${t.server.port}/api`)).rejects.toThrow(/401/);
    await expect(WsClient.connect(`ws://127.0.0.1:${t.server.port}/api?token=nope`)).rejects.toThrow(/401/);
  });

  it('accepts the token as a Bearer header or a WebSocket subprotocol (the browser’s way), never as a cookie; no cookie is ever set', async () => {
    const b = await WsClient.connect(`ws://127.0.0.1:${t.server.port}/api`, { Authorization: `Bearer ${t.token}` });
    expect(await b.call('session.current')).toBeNull();
    b.close();
    const proto = `aristobot.token.${Buffer.from(t.token).toString('base64url')}`;
    const sub = await WsClient.connect(`ws://127.0.0.1:${t.server.port}/api`, { Origin: `http://127.0.0.1:${t.server.port}` }, ['aristobot', proto]);
    expect(sub.ws.protocol).toBe('aristobot'); // the token's protocol is never echoed
    expect(await sub.call('session.current')).toBeNull();
    sub.close();
    await expect(WsClient.connect(`ws://127.0.0.1:${t.server.port}/api`, { Cookie: `aristobot_token=${encodeURIComponent(t.token)}` })).rejects.toThrow(/401/);
    const res = await fetch(`http://127.0.0.1:${t.server.port}/?token=${t.token}`);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self';");
  });

  it('survives malformed request targets and cookies (400, never a crash)', async () => {
    const { request } = await import('node:net').then((net) => ({
      request: (raw: string) =>
        new Promise<string>((resolve) => {
          const sock = net.connect(t.server.port, '127.0.0.1', () => sock.write(raw));
          let out = '';
          sock.on('data', (d) => (out += d));
          sock.on('close', () => resolve(out));
          sock.on('error', () => resolve(out));
          setTimeout(() => sock.destroy(), 1000);
        }),
    }));
    expect(await request('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(await request('GET /// HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(await request(`GET /%E0%A4%A?token=${t.token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1.1 400/);
    expect(await request('GET / HTTP/1.1\r\nHost: x\r\nCookie: aristobot_token=%E0%A4%A\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 (200|503)/); // cookies are ignored
    expect(await request('GET //api HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')).toMatch(/^HTTP\/1.1 401/);
    expect(await request('garbage\r\n\r\n')).toBe('');
    // still serving
    expect((await c.request('app.status')).result).toMatchObject({ state: 'ready' });
  });

  it('refuses a browser socket from another origin', async () => {
    await expect(WsClient.connect(`ws://127.0.0.1:${t.server.port}/api?token=${t.token}`, { Origin: 'http://evil.example' })).rejects.toThrow(/401/);
  });

  it('answers malformed messages and unknown methods with typed errors and keeps running', async () => {
    expect((await c.sendRaw('this is not json')).error?.code).toBe('invalid_input');
    expect((await c.sendRaw('[1,2]')).error?.code).toBe('invalid_input');
    expect((await c.request('no.such.method')).error).toMatchObject({ code: 'unknown_method', message: 'Unknown method: no.such.method' });
    expect((await c.request('profiles.create', 'oops')).error?.code).toBe('invalid_input');
    expect((await c.request('app.status')).result).toMatchObject({ state: 'ready', database: { mode: 'external' } });
  });

  it('validates input and names the field; nothing is created', async () => {
    const before = await profileCount();
    const empty = await c.request('profiles.create', { name: '', password: 'pw-12345' });
    expect(empty.error).toMatchObject({ code: 'invalid_input' });
    expect((empty.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('name');
    const long = await c.request('profiles.create', { name: 'x'.repeat(41), password: 'pw-12345' });
    expect(long.error?.message).toContain('name');
    const shortPw = await c.request('profiles.create', { name: 'ok', password: '1' });
    expect((shortPw.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('password');
    const extra = await c.request('profiles.create', { name: 'ok', password: 'pw-12345', admin: true });
    expect(extra.error?.code).toBe('invalid_input');
    expect(await profileCount()).toBe(before);
  });

  it('needs a logged-in session for profile methods', async () => {
    expect((await c.request('settings.get')).error?.code).toBe('unauthenticated');
  });

  it('create → login → settings → logout; sessions are per connection', async () => {
    await c.call('profiles.create', { name: 'Scripted', password: 'pw-12345' });
    expect((await c.request('profiles.create', { name: 'scripted', password: 'pw-12345' })).error?.code).toBe('conflict');
    expect((await c.request('profiles.login', { name: 'Scripted', password: 'bad' })).error).toMatchObject({ code: 'wrong_password', message: 'Wrong password' });
    const s = await c.call<{ profile: { name: string } }>('profiles.login', { name: 'Scripted', password: 'pw-12345' });
    expect(s.profile.name).toBe('Scripted');
    const other = await t.client();
    expect(await other.call('session.current')).toBeNull();
    expect((await other.request('settings.get')).error?.code).toBe('unauthenticated');
    other.close();
    expect(await c.call('settings.update', { theme: 'light' })).toMatchObject({ theme: 'light' });
    expect((await c.request('settings.update', { theme: 'purple' })).error?.code).toBe('invalid_input');
    expect(await c.call('settings.get')).toMatchObject({ theme: 'light' });
    await c.call('profiles.logout');
    expect(await c.call('session.current')).toBeNull();
  });

  it('delivers subscribed events only to connections of the same profile', async () => {
    await c.call('profiles.create', { name: 'Evt1', password: 'pw-12345' });
    await c.call('profiles.create', { name: 'Evt2', password: 'pw-12345' });
    const a1 = await t.client();
    const a2 = await t.client();
    const b = await t.client();
    for (const [cl, n] of [[a1, 'Evt1'], [a2, 'Evt1'], [b, 'Evt2']] as const) {
      await cl.call('profiles.login', { name: n, password: 'pw-12345' });
      await cl.call('events.subscribe', { events: ['settings.changed'] });
    }
    const unknown = (await a1.request('events.subscribe', { events: ['no.such.event'] })).error!;
    expect(unknown).toMatchObject({ code: 'invalid_input', key: 'errors.api.unknownEvent', details: { issues: [{ path: 'events', key: 'errors.api.unknownEvent', params: { unknown: 'no.such.event' } }] } });
    expect(wordField('fr', unknown, 'events')).toBe('Événement inconnu : no.such.event');
    await a1.call('settings.update', { timezone: 'UTC' });
    expect((await a2.waitForEvent('settings.changed')).data).toMatchObject({ timezone: 'UTC' });
    await new Promise((r) => setTimeout(r, 100));
    expect(b.events).toEqual([]);
    for (const cl of [a1, a2, b]) cl.close();
  });

  it('debug mode is absent without ARISTOBOT_DEBUG', async () => {
    expect(await c.call('debug.get')).toEqual({ available: false, enabled: false });
    expect((await c.request('debug.set', { enabled: true })).error?.code).toBe('unavailable');
  });

  it('never writes a password to the log', async () => {
    const canary = 'canary-pw-7f3e9b1c';
    await c.call('profiles.create', { name: 'Canary', password: canary });
    await c.request('profiles.login', { name: 'Canary', password: canary + 'x' });
    await c.call('profiles.login', { name: 'Canary', password: canary });
    await c.request('profiles.changePassword', { currentPassword: canary, newPassword: 'short' });
    const log = t.logText();
    expect(log).toContain('wrong password'); // the log is really written
    expect(log).not.toContain(canary);
  });
});
