import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramStub, type TelegramStub } from './sim/telegram/server';
import { asOwner } from './support/db';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * The notifications contract through the real core and WebSocket transport: profile-only access,
 * each bad input refused with nothing changed, the Telegram test button against the Bot API stub,
 * and a real event (a webhook refused by the real listener) arriving as `notifications.new`.
 */

const BOT = { token: '7098765432:AAFapiTestTokenForTheStubOnly0000q9r8', id: 7098765432, username: 'aristobot_api_bot' };
const CHAT = '-100200300';
let tg: TelegramStub;
let h: TestHost;
let a: WsClient;
let b: WsClient;
type Issue = { path: string; message: string };
const fail = async (c: WsClient, method: string, params?: unknown) => {
  const r = await c.request(method, params);
  return r.error as { code: string; message: string; details?: { issues?: Issue[] } } | undefined;
};

beforeAll(async () => {
  tg = await startTelegramStub({ bots: [BOT], chats: [CHAT] });
  // read by the core at start (notifyEnv), like every ARISTOBOT_* variable
  process.env.ARISTOBOT_TELEGRAM_API_URL = tg.url;
  process.env.ARISTOBOT_TELEGRAM_MIN_INTERVAL_MS = '0';
  h = await startTestHost({ ARISTOBOT_WEBHOOK_PORT: '0', ARISTOBOT_WEBHOOK_WATCH_MS: '0', ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'notify-api-passphrase', ARISTOBOT_DATA_DIR: mkdtempSync(join(tmpdir(), 'aristobot-notify-api-')) });
  a = await h.client();
  b = await h.client();
  await a.call('profiles.create', { name: 'A', password: 'pw-12345' });
  await a.call('profiles.create', { name: 'B', password: 'pw-12345' });
  await a.call('profiles.login', { name: 'A', password: 'pw-12345' });
  await b.call('profiles.login', { name: 'B', password: 'pw-12345' });
  await a.call('events.subscribe', { events: ['notifications.new', 'notifications.changed'] });
  await b.call('events.subscribe', { events: ['notifications.new'] });
}, 60_000);
afterAll(async () => {
  a?.close();
  b?.close();
  await h?.close();
  await tg?.close();
});

describe('notifications API', () => {
  it('needs a logged-in profile', async () => {
    const anon = await h.client();
    for (const m of ['notifications.list', 'notifications.settings.get']) expect((await fail(anon, m))?.code).toBe('unauthenticated');
    expect((await fail(anon, 'notifications.test', { channel: 'in_app' }))?.code).toBe('unauthenticated');
    anon.close();
  });

  it('refuses each bad input with the reason and changes nothing', async () => {
    const before = await a.call('notifications.settings.get');
    const bad: [string, unknown, string][] = [
      ['notifications.settings.update', { routes: { order_filled: ['pager'] } }, 'routes.order_filled.0'],
      ['notifications.settings.update', { routes: { lunch_time: ['in_app'] } }, 'routes'],
      ['notifications.settings.update', { heartbeatDownMinutes: 0 }, 'heartbeatDownMinutes'],
      ['notifications.settings.update', { heartbeatDownMinutes: 2000 }, 'heartbeatDownMinutes'],
      ['notifications.settings.update', { telegram: { token: 'not-a-token', chatId: CHAT } }, 'telegram.token'],
      ['notifications.settings.update', { telegram: { token: BOT.token, chatId: 'my chat' } }, 'telegram.chatId'],
      ['notifications.settings.update', { color: 'red' }, '(params)'],
      ['notifications.test', { channel: 'sms' }, 'channel'],
      ['notifications.markRead', { ids: ['not-a-uuid'] }, 'ids.0'],
      ['notifications.list', { limit: 0 }, 'limit'],
    ];
    for (const [method, params, path] of bad) {
      const e = await fail(a, method, params);
      expect(e?.code, `${method} ${JSON.stringify(params)}`).toBe('invalid_input');
      expect(e!.details!.issues!.some((i) => i.path === path), `${JSON.stringify(e!.details)} has ${path}`).toBe(true);
    }
    // the token's shape is explained; the token itself is not echoed back
    const tokenErr = await fail(a, 'notifications.settings.update', { telegram: { token: 'not-a-token', chatId: CHAT } });
    expect(tokenErr!.message).toMatch(/BotFather/);
    expect(await a.call('notifications.settings.get')).toEqual(before);
  });

  it('the Telegram test button names the wrong field, then saves a working setup', async () => {
    const wrongToken = await fail(a, 'notifications.test', { channel: 'telegram', token: BOT.token.replace('q9r8', 'zzzz'), chatId: CHAT });
    expect(wrongToken).toMatchObject({ code: 'invalid_input', details: { issues: [{ path: 'token' }] } });
    const wrongChat = await fail(a, 'notifications.test', { channel: 'telegram', token: BOT.token, chatId: '-100999' });
    expect(wrongChat).toMatchObject({ code: 'invalid_input', details: { issues: [{ path: 'chatId' }] } });
    expect((await a.call<{ telegram: { configured: boolean } }>('notifications.settings.get')).telegram.configured).toBe(false);
    expect(JSON.stringify([wrongToken, wrongChat])).not.toContain(BOT.token);

    expect(await a.call('notifications.test', { channel: 'telegram', token: BOT.token, chatId: CHAT })).toEqual({ ok: true, channel: 'telegram', notificationId: null, saved: true });
    expect(await a.call('notifications.settings.get')).toMatchObject({ telegram: { configured: true, tokenHint: '••••q9r8', chatId: CHAT, botUsername: BOT.username } });
    expect(tg.messages.map((m) => m.chatId)).toEqual([CHAT]);
    // the other profile has its own settings
    expect(await b.call('notifications.settings.get')).toMatchObject({ telegram: { configured: false } });
    expect(h.logText()).not.toContain(BOT.token.split(':')[1]);
  });

  it('a webhook refused by the real listener reaches the bell (and Telegram), only for its profile', async () => {
    await a.call('notifications.settings.update', { routes: { webhook_refused: ['in_app', 'desktop', 'telegram'] } });
    const st = await a.call<{ url: string }>('webhooks.listener.start');
    const r = await fetch(st.url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ secret: 'wrong', action: 'BuyMarket', symbol: 'BTCUSDT' }) });
    expect(r.status).toBe(401);
    const ev = await a.waitForEvent('notifications.new', 10_000);
    expect(ev.data).toMatchObject({ kind: 'webhook_refused', level: 'danger', title: 'Webhook refused', channels: ['in_app', 'desktop', 'telegram'], read: false });
    const list = await a.call<{ items: { id: string; kind: string; telegram: { status: string } | null }[]; unread: number }>('notifications.list');
    expect(list.items.map((n) => n.kind)).toEqual(['webhook_refused']);
    expect(list.unread).toBe(1);
    // Telegram got it in the background
    for (let i = 0; i < 200 && tg.messages.length < 2; i++) await new Promise((res) => setTimeout(res, 25));
    expect(tg.messages[1]!.text).toMatch(/^Webhook refused\n/);
    // the other profile saw nothing
    expect(b.events.filter((e) => e.event === 'notifications.new')).toEqual([]);
    expect((await b.call<{ items: unknown[] }>('notifications.list')).items).toEqual([]);
    expect(await b.call('notifications.markRead', { ids: [list.items[0]!.id] })).toEqual({ unread: 0 });
    expect((await a.call<{ unread: number }>('notifications.list')).unread).toBe(1);
    expect(await a.call('notifications.markRead', { all: true })).toEqual({ unread: 0 });
    await a.call('webhooks.listener.stop');
  });

  it('the desktop and in-app test buttons emit a test notification on that channel only', async () => {
    a.events.length = 0;
    const r = await a.call<{ notificationId: string }>('notifications.test', { channel: 'desktop' });
    const ev = await a.waitForEvent('notifications.new');
    expect(ev.data).toMatchObject({ id: r.notificationId, kind: 'test', channels: ['desktop'], read: true });
  });
  it('deleting a profile removes its Telegram token from the SecretStore and its notifications', async () => {
    await b.call('notifications.test', { channel: 'telegram', token: BOT.token, chatId: CHAT });
    await b.call('notifications.test', { channel: 'in_app' });
    const ref = await asOwner(h.db.ownerUrl, async (c) => (await c.query<{ r: string; id: string }>("SELECT s.telegram_secret_ref AS r FROM notification_settings s JOIN profiles p ON p.id = s.profile_id WHERE p.name = 'B'")).rows[0]!.r);
    const store = h.host.services!.secrets.store!;
    expect(await store.get(ref)).toBe(BOT.token);
    await b.call('profiles.delete', { name: 'B', password: 'pw-12345' });
    expect(await store.get(ref)).toBeNull();
    const left = await asOwner(h.db.ownerUrl, async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = n.profile_id) OR n.kind = 'test' AND n.channels = '{in_app}'")).rows[0]!.n);
    expect(left).toBe(0);
    // A's setup is untouched
    expect(await a.call('notifications.settings.get')).toMatchObject({ telegram: { configured: true } });
  });
});
