import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationKindName } from '../shared/contract/notifications';
import { NOTIFICATION_KINDS } from '../shared/contract/notifications';
import { isAppError } from '../shared/errors';
import { translate, type Params } from '../shared/i18n';
import { wordError, wordField } from '../shared/i18n/wording';
import { EventBus, type BusEvent } from '../electron/events';
import { createLogger, type Logger } from '../electron/log';
import { NotificationService, type NotificationDto } from '../electron/notifications/service';
import { desktopNotificationFor } from '../electron/notifications/desktop';
import { TelegramClient } from '../electron/notifications/telegram';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTelegramStub, type TelegramStub } from './sim/telegram/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * The notification service on the real database and bus: real orders through the exchange
 * simulator (filled, refused), the other services' events as they emit them, and Telegram through
 * a local stub of the Bot API (getMe, sendMessage, its error answers, unreachable).
 */

const BOT = { token: '7012345678:AAHs1mTestTokenForTheStubOnly00000abcd', id: 7012345678, username: 'aristobot_test_bot' };
const OTHER_TOKEN = '7012345678:AAHs1mWrongTokenForTheStubOnly0000wxyz';
const CHAT = '424242';
const BLOCKED = '515151';
const BTC = 'BTC/USDT';

let sim: ExchangeSim;
let tg: TelegramStub;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
let svc: NotificationService;
let secrets: ReturnType<typeof memorySecrets>;
let log: Logger;
let logFile: string;
let offsetMs = 0;
const emitted: BusEvent[] = [];

const err = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (isAppError(e) ? { code: e.code, message: e.message, key: e.key as string, params: e.params, details: e.details as { issues?: { path: string; key?: string }[] } } : { code: 'thrown', message: String(e), key: undefined, params: undefined, details: undefined }));
/** The message the renderer shows under a field, in French. */
const frField = (e: Awaited<ReturnType<typeof err>>, path: string) => wordField('fr', e!, path);
const list = async (): Promise<NotificationDto[]> => (await svc.list(tr.profileId, { limit: 500 })).items;
const settingsRows = () => tr.db.withProfile(tr.profileId, async (c) => (await c.query('SELECT * FROM notification_settings')).rows);
const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  sim = await startExchangeSim();
  tg = await startTelegramStub({ bots: [BOT], chats: [CHAT] });
  tg.addChat(BLOCKED, { blocked: true });
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
  secrets = memorySecrets();
  logFile = join(mkdtempSync(join(tmpdir(), 'aristobot-notify-')), 'test.log');
  log = createLogger({ file: logFile, level: 'debug' });
  svc = new NotificationService({ db: tdb.db, bus: tr.bus, log, secrets, telegram: new TelegramClient(tg.url, 2000), config: { tickMs: 0, telegramMinIntervalMs: 0, retryBaseMs: 20_000, retryMaxMs: 60_000, now: () => Date.now() + offsetMs } });
  svc.start();
  tr.bus.on((e) => {
    if (e.event.startsWith('notifications.')) emitted.push(e);
  });
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  await tdb?.close();
  await tg?.close();
  await sim?.close();
});

describe('Telegram setup', () => {
  it('says whether the token or the chat id is wrong, and saves nothing until both work', async () => {
    const wrongToken = await err(svc.updateSettings(tr.profileId, { telegram: { token: OTHER_TOKEN, chatId: CHAT } }));
    expect(wrongToken).toMatchObject({ code: 'invalid_input' });
    expect(wrongToken!.message).toMatch(/bot token is wrong.*401 Unauthorized.*Nothing was saved/);
    expect(wrongToken!.details!.issues!.map((i) => i.path)).toEqual(['token']);
    // keyed, with Telegram's own words nested as a message: the whole sentence comes out in French
    expect(wrongToken!.details!.issues![0]!.key).toBe('errors.notifications.tokenWrong');
    expect(frField(wrongToken, 'token')).toMatch(/^Le jeton du bot est erroné : Telegram a refusé le jeton du bot \(401 Unauthorized\)\. .*Rien n'a été enregistré\.$/);

    const wrongChat = await err(svc.updateSettings(tr.profileId, { telegram: { token: BOT.token, chatId: '999999' } }));
    expect(wrongChat!.message).toMatch(/chat id is wrong.*chat not found/);
    expect(wrongChat!.details!.issues!.map((i) => i.path)).toEqual(['chatId']);
    expect(frField(wrongChat, 'chatId')).toMatch(/^Le chat id est erroné : Telegram ne peut pas livrer de message dans ce chat \(400 Bad Request: chat not found\)/);

    const blocked = await err(svc.test(tr.profileId, { channel: 'telegram', token: BOT.token, chatId: BLOCKED }));
    expect(blocked!.message).toMatch(/chat id is wrong.*403 Forbidden: bot was blocked/);
    expect(blocked!.details!.issues!.map((i) => i.path)).toEqual(['chatId']);

    tg.down = true;
    const down = await err(svc.updateSettings(tr.profileId, { telegram: { token: BOT.token, chatId: CHAT } }));
    tg.down = false;
    expect(down).toMatchObject({ code: 'unavailable' });
    expect(down!.message).toMatch(/could not be reached.*Nothing was saved/);
    expect(wordError('fr', down!)).toMatch(/^Impossible de joindre Telegram.*Rien n'a été enregistré ; réessayez plus tard\.$/);

    // telegram chosen as a channel before it is set up: refused
    const early = await err(svc.updateSettings(tr.profileId, { routes: { order_filled: ['telegram'] } }));
    expect(early!.details!.issues!.map((i) => i.path)).toEqual(['routes']);
    expect(frField(early, 'routes')).toMatch(/^Configurez d'abord Telegram/);

    // every other refusal names its field with a key; the renderer words it in French under the field
    const refusals: [() => Promise<unknown>, string, string, RegExp][] = [
      [() => svc.updateSettings(tr.profileId, { telegramDisconnect: true, telegram: { token: BOT.token, chatId: CHAT } }), 'telegramDisconnect', 'errors.notifications.eitherNewTelegramCredentials', /^Soit de nouveaux identifiants Telegram, soit une déconnexion/],
      [() => svc.updateSettings(tr.profileId, { telegram: { chatId: CHAT } }), 'telegram.token', 'errors.notifications.enterBotTokenFrom', /^Saisissez le jeton du bot/],
      [() => svc.test(tr.profileId, { channel: 'telegram', token: BOT.token, chatId: '' }), 'chatId', 'errors.notifications.enterChatIdWith', /^Saisissez le chat id/],
      [() => svc.test(tr.profileId, { channel: 'telegram' }), 'token', 'errors.notifications.telegramNotSetUp', /^Telegram n'est pas configuré/],
    ];
    for (const [call, path, key, french] of refusals) {
      const e = await err(call());
      expect(e, path).toMatchObject({ code: 'invalid_input', key });
      expect(e!.details!.issues).toEqual([{ path, key, params: {}, message: e!.message }]);
      expect(frField(e, path)).toMatch(french);
    }

    // nothing of the above reached the database or sent a message
    expect(await settingsRows()).toEqual([]);
    expect(tg.messages).toEqual([]);
    expect((await svc.getSettings(tr.profileId)).telegram).toEqual({ configured: false, tokenHint: null, botUsername: null, chatId: null });
  });

  it('the test button checks getMe and sendMessage, then saves; the token only in the SecretStore', async () => {
    const r = await svc.test(tr.profileId, { channel: 'telegram', token: BOT.token, chatId: CHAT });
    expect(r).toEqual({ ok: true, channel: 'telegram', notificationId: null, saved: true });
    expect(tg.messages.map((m) => [m.chatId, m.text])).toEqual([[CHAT, expect.stringMatching(/test message/)]]);
    expect((await svc.getSettings(tr.profileId)).telegram).toEqual({ configured: true, tokenHint: '••••abcd', botUsername: BOT.username, chatId: CHAT });
    const rows = await settingsRows();
    expect(JSON.stringify(rows)).not.toContain(BOT.token);
    expect(await secrets.store.get(rows[0].telegram_secret_ref as string)).toBe(BOT.token);

    // with the stored setup: sends again, saves nothing new
    expect(await svc.test(tr.profileId, { channel: 'telegram' })).toMatchObject({ ok: true, saved: false });
    expect(tg.messages).toHaveLength(2);
    // a new chat id alone keeps the stored token; a wrong one leaves the saved one as it was
    const bad = await err(svc.updateSettings(tr.profileId, { telegram: { chatId: '31337' } }));
    expect(bad!.details!.issues!.map((i) => i.path)).toEqual(['chatId']);
    expect((await svc.getSettings(tr.profileId)).telegram.chatId).toBe(CHAT);
  });
});

describe('events become notifications on the chosen channels', () => {
  it('each kind that exists today, with Telegram through the stub', async () => {
    const all = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, ['in_app', 'desktop', 'telegram']])) as Record<NotificationKindName, ('in_app' | 'desktop' | 'telegram')[]>;
    await svc.updateSettings(tr.profileId, { routes: { ...all, engine_switched: ['in_app'], backtest_finished: ['telegram'] } });
    const sentBefore = tg.messages.length;
    const p = tr.profileId;

    // order filled and refused: real orders through the exchange simulator
    const filled = await orders.place(p, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.01', source: 'manual' });
    expect(filled.status).toBe('filled');
    const refused = await err(orders.place(p, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '50', source: 'manual' }));
    expect(refused!.code).toBe('insufficient_funds');

    // the other services' events, as they emit them, over the rows they write
    const request = await tr.db.withProfile(p, async (c) => (await c.query<{ id: string }>("INSERT INTO webhook_requests (http_status, status, reason, action, symbol) VALUES (401, 'rejected', 'wrong secret', 'BuyMarket', 'BTCUSDT') RETURNING id")).rows[0]!.id);
    tr.bus.emit('webhooks.received', { requestId: request, status: 'rejected', action: 'BuyMarket', symbol: 'BTCUSDT', httpStatus: 401, receivedAt: new Date().toISOString() }, { profileId: p });
    const pos = await tr.db.withProfile(p, async (c) => (await c.query<{ id: string }>("INSERT INTO webhook_positions (broker_id, sandbox, exchange, symbol, base, quote, exit_order_id, exit_reason) VALUES ($1, false, 'binance', $2, 'BTC', 'USDT', $3, 'Stop-loss hit at 58000: sold at market (order filled).') RETURNING id", [tr.brokerId, BTC, filled.id])).rows[0]!.id);
    tr.bus.emit('webhooks.updated', { kind: 'position', id: pos }, { profileId: p });
    tr.bus.emit('bot.decision', { id: '11111111-1111-4111-8111-111111111111', activationId: '22222222-2222-4222-8222-222222222222', kind: 'take_profit', candleTime: new Date().toISOString(), action: 'close', reason: 'take-profit 66000 reached', status: 'done', orderIds: [], error: null, latencyMs: 3, createdAt: new Date().toISOString() }, { profileId: p });
    tr.bus.emit('bot.updated', { id: '22222222-2222-4222-8222-222222222222', state: 'error', reason: 'the exchange refused the key' }, { profileId: p });
    await tr.db.withProfile(p, (c) => c.query("INSERT INTO webhook_senders (name, last_ping_at, expect_minutes) VALUES ('BTC 1h', now() - interval '12 minutes', 5)"));
    tr.bus.emit('webhooks.updated', { kind: 'senders', id: null }, { profileId: p });
    tr.bus.emit('engine.changed', { running: true, live: 2, note: '' }, { profileId: p });
    tr.bus.emit('backtests.done', { runId: '33333333-3333-4333-8333-333333333333', status: 'done', error: null }, { profileId: p });
    // the heartbeat: running but disconnected, notified once the profile's delay (5 min) has passed
    tr.bus.emit('heartbeat.status', { running: true, connected: false } as never);
    svc.tick();
    await svc.idle();
    expect((await list()).some((n) => n.kind === 'heartbeat_down')).toBe(false);
    offsetMs += 6 * 60_000;
    svc.tick();
    await svc.idle();

    const items = await list();
    const byKind = (k: string) => items.filter((n) => n.kind === k);
    for (const k of NOTIFICATION_KINDS) expect(byKind(k), k).toHaveLength(k === 'sltp_executed' ? 2 : 1);
    expect(byKind('order_filled')[0]).toMatchObject({ title: 'Order filled: BTC/USDT', ref: filled.id, channels: ['in_app', 'desktop', 'telegram'], read: false, telegram: { status: 'sent' } });
    expect(byKind('order_filled')[0]!.body).toMatch(/^Buy 0\.01 BTC\/USDT at 60000/);
    expect(byKind('order_refused')[0]!.body).toMatch(/Buy 50 BTC\/USDT.*Not enough USDT/);
    expect(byKind('webhook_refused')[0]!.body).toBe('BuyMarket BTCUSDT: wrong secret');
    expect(byKind('ping_missed')[0]!.title).toBe('Missed PING: BTC 1h');
    expect(byKind('heartbeat_down')[0]!.body).toMatch(/disconnected for 6 min/);
    // routes: in-app only (no Telegram); Telegram only (stored as read: the bell does not count it)
    expect(byKind('engine_switched')[0]).toMatchObject({ channels: ['in_app'], telegram: null, read: false });
    expect(byKind('backtest_finished')[0]).toMatchObject({ channels: ['telegram'], read: true, telegram: { status: 'sent' } });

    // Telegram got exactly the ones routed there
    const texts = tg.messages.slice(sentBefore).map((m) => m.text.split('\n')[0]);
    expect(texts.sort()).toEqual(items.filter((n) => n.channels.includes('telegram')).map((n) => n.title).sort());
    expect(texts).toHaveLength(9);
    // each was emitted to its profile as notifications.new
    const news = emitted.filter((e) => e.event === 'notifications.new');
    expect(news.every((e) => e.profileId === p)).toBe(true);
    expect(new Set(news.map((e) => (e.data as NotificationDto).id))).toEqual(new Set(items.map((n) => n.id)));
  });

  it('the same fact is notified once; a kind routed nowhere makes none; read state', async () => {
    const before = (await list()).length;
    tr.bus.emit('webhooks.updated', { kind: 'senders', id: null }, { profileId: tr.profileId });
    tr.bus.emit('bot.updated', { id: '22222222-2222-4222-8222-222222222222', state: 'error', reason: 'the exchange refused the key' }, { profileId: tr.profileId });
    svc.tick();
    await svc.idle();
    expect((await list()).length).toBe(before);

    await svc.updateSettings(tr.profileId, { routes: { backtest_finished: [] } });
    tr.bus.emit('backtests.done', { runId: '44444444-4444-4444-8444-444444444444', status: 'failed', error: 'no candles' }, { profileId: tr.profileId });
    // suspended after the error: a new fact
    tr.bus.emit('bot.updated', { id: '22222222-2222-4222-8222-222222222222', state: 'suspended', reason: 'reconcile found an unknown order' }, { profileId: tr.profileId });
    await svc.idle();
    const items = await list();
    expect(items.length).toBe(before + 1);
    expect(items[0]).toMatchObject({ kind: 'activation_error', title: expect.stringMatching(/suspended/) });

    const { unread } = await svc.list(tr.profileId);
    expect(unread).toBeGreaterThan(2);
    expect(await svc.markRead(tr.profileId, { ids: [items[0]!.id] })).toEqual({ unread: unread - 1 });
    expect(await svc.markRead(tr.profileId, { all: true })).toEqual({ unread: 0 });
  });

  it("a failed backtest's reason nests as a message (worded in French); an event without a key keeps its English", async () => {
    await svc.updateSettings(tr.profileId, { routes: { backtest_finished: ['in_app', 'desktop'] } });
    const keyed = '55555555-5555-4555-8555-555555555555';
    const plain = '66666666-6666-4666-8666-666666666666';
    tr.bus.emit('backtests.done', { runId: keyed, status: 'failed', error: 'The app stopped during the run.', errorKey: 'coreRest.backtest.appStopped', errorParams: {} }, { profileId: tr.profileId });
    tr.bus.emit('backtests.done', { runId: plain, status: 'failed', error: 'no candles' }, { profileId: tr.profileId });
    await svc.idle();
    const items = await list();
    const a = items.find((n) => n.ref === keyed)!;
    expect(a.body).toBe('Failed: The app stopped during the run.');
    expect(translate('fr', a.bodyText!.key, a.bodyText!.params as Params)).toBe("Échec : L'application s'est arrêtée pendant le backtest.");
    const b = items.find((n) => n.ref === plain)!;
    expect(b.body).toBe('Failed: no candles');
    expect(translate('fr', b.bodyText!.key, b.bodyText!.params as Params)).toBe('Échec : no candles');
    // the Electron shell's desktop notification of the same event, for a French profile
    const ev = emitted.find((e) => e.event === 'notifications.new' && (e.data as NotificationDto).ref === keyed)!;
    expect(desktopNotificationFor(ev, tr.profileId, 'fr')).toEqual({ title: expect.stringMatching(/^Backtest en échec : /), body: "Échec : L'application s'est arrêtée pendant le backtest." });
  });
});

describe('reasons other domains stored by key', () => {
  it("a refused webhook's journaled reason key becomes the notification's (French); an old row keeps its English", async () => {
    await svc.updateSettings(tr.profileId, { routes: { webhook_refused: ['in_app'] } });
    const p = tr.profileId;
    const insert = (key: string | null) =>
      tr.db.withProfile(p, async (c) => (await c.query<{ id: string }>("INSERT INTO webhook_requests (http_status, status, reason, reason_key, reason_params, action, symbol) VALUES (401, 'rejected', 'Wrong secret: copy the alert template again (was the secret regenerated?).', $1, $2, 'SellMarket', 'ETHUSDT') RETURNING id", [key, key ? {} : null])).rows[0]!.id);
    const keyedId = await insert('coreWebhooks.refused.wrongSecret');
    const oldId = await insert(null);
    for (const id of [keyedId, oldId]) tr.bus.emit('webhooks.received', { requestId: id, status: 'rejected', action: 'SellMarket', symbol: 'ETHUSDT', httpStatus: 401, receivedAt: new Date().toISOString() }, { profileId: p });
    await svc.idle();
    const items = await list();
    const keyed = items.find((n) => n.ref === keyedId)!;
    const old = items.find((n) => n.ref === oldId)!;
    expect(keyed.body).toBe('SellMarket ETHUSDT: Wrong secret: copy the alert template again (was the secret regenerated?).');
    expect(old.body).toBe(keyed.body);
    expect(translate('fr', keyed.bodyText!.key, keyed.bodyText!.params as Params)).toBe("SellMarket ETHUSDT : Secret erroné : copiez à nouveau le modèle d'alerte (le secret a-t-il été régénéré ?).");
    // the old row has no key: its English reason is quoted as is, inside a French sentence
    expect(translate('fr', old.bodyText!.key, old.bodyText!.params as Params)).toBe('SellMarket ETHUSDT : Wrong secret: copy the alert template again (was the secret regenerated?).');
  });
});

describe('the heartbeat outage', () => {
  it('is read from the heartbeat at each tick, and notified once the delay has passed', async () => {
    let state = { running: true, connected: false };
    let t = Date.now();
    const other = new NotificationService({ db: tdb.db, bus: new EventBus(), log, secrets, telegram: new TelegramClient(tg.url, 2000), config: { tickMs: 0, telegramMinIntervalMs: 0, now: () => t }, heartbeat: () => state });
    other.start();
    const downs = async () => (await list()).filter((n) => n.kind === 'heartbeat_down').length;
    const before = await downs();
    const pass = async (advanceMs: number) => {
      t += advanceMs;
      other.tick();
      await other.idle();
    };
    await pass(0);
    await pass(3 * 60_000); // 3 min: under the profile's 5
    expect(await downs()).toBe(before);
    state = { running: true, connected: true }; // back before the delay: nothing
    await pass(1000);
    state = { running: true, connected: false };
    await pass(1000);
    await pass(4 * 60_000);
    expect(await downs()).toBe(before);
    await pass(60_000 + 1);
    expect(await downs()).toBe(before + 1);
    await pass(10 * 60_000); // the same outage: once
    expect(await downs()).toBe(before + 1);
    state = { running: false, connected: false }; // switched off on purpose: not an outage
    await pass(1000);
    await pass(60 * 60_000);
    expect(await downs()).toBe(before + 1);
    await other.stop();
  });
});

describe('Telegram unreachable', () => {
  it('queues as pending, keeps trading going, and delivers in order once Telegram is back', async () => {
    await svc.updateSettings(tr.profileId, { routes: { order_filled: ['in_app', 'telegram'] } });
    const sentBefore = tg.messages.length;
    tg.down = true;
    const a = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.002', source: 'strategy' });
    const b = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.001', source: 'strategy' });
    // trading went on: both orders filled at the exchange while Telegram was unreachable
    expect([a.status, b.status]).toEqual(['filled', 'filled']);
    await svc.idle();
    let mine = (await list()).filter((n) => n.ref === a.id || n.ref === b.id);
    expect(mine.map((n) => n.telegram?.status)).toEqual(['pending', 'pending']);
    expect(mine.find((n) => n.ref === a.id)!.telegram).toMatchObject({ status: 'pending', attempts: 1, error: expect.stringMatching(/could not be reached/) });
    expect((await svc.list(tr.profileId)).pendingTelegram).toBe(2);
    expect(emitted.some((e) => e.event === 'notifications.changed' && (e.data as { pendingTelegram: number }).pendingTelegram === 2)).toBe(true);

    // still down at the next attempt: the backoff grows
    offsetMs += 60_000;
    svc.tick();
    await svc.idle();
    mine = (await list()).filter((n) => n.ref === a.id);
    expect(mine[0]!.telegram!.attempts).toBe(2);
    expect(tg.messages.length).toBe(sentBefore);

    tg.down = false;
    offsetMs += 60_000;
    svc.tick();
    await svc.idle();
    mine = (await list()).filter((n) => n.ref === a.id || n.ref === b.id);
    expect(mine.map((n) => n.telegram?.status)).toEqual(['sent', 'sent']);
    expect(tg.messages.slice(sentBefore).map((m) => m.text.split('\n')[1]!.slice(0, 4))).toEqual(['Buy ', 'Sell']);
    expect((await svc.list(tr.profileId)).pendingTelegram).toBe(0);
  });

  it('a 5xx is retried; a refusal that retrying cannot fix is kept as failed with the reason', async () => {
    tg.serverError = 502;
    const o = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.001', source: 'manual' });
    await svc.idle();
    expect((await list()).find((n) => n.ref === o.id)!.telegram).toMatchObject({ status: 'pending', error: expect.stringMatching(/502/) });
    tg.serverError = null;
    offsetMs += 60_000;
    svc.tick();
    await svc.idle();
    expect((await list()).find((n) => n.ref === o.id)!.telegram).toMatchObject({ status: 'sent' });

    // the user blocks the bot: the message is not lost silently, it says why
    await tr.db.withProfile(tr.profileId, (c) => c.query('UPDATE notification_settings SET telegram_chat_id = $1', [BLOCKED]));
    const o2 = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.001', source: 'manual' });
    await until('the refusal', async () => {
      await svc.idle();
      return (await list()).find((n) => n.ref === o2.id)?.telegram?.status === 'failed';
    });
    expect((await list()).find((n) => n.ref === o2.id)!.telegram!.error).toMatch(/403 Forbidden: bot was blocked/);
  });

  it('never writes the bot token to the log or the notifications', async () => {
    log.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(logFile, 'utf8')).toMatch(/telegram message/);
    expect(readFileSync(logFile, 'utf8')).not.toContain(BOT.token.split(':')[1]);
    expect(JSON.stringify(await list())).not.toContain(BOT.token.split(':')[1]);
  });
});
