/**
 * Notifications leave the app in the profile's language: a French profile gets its Telegram messages
 * (the test message, an event's notification) in French through the local Bot API stub, while the
 * stored notification keeps its English title and body (the public API) beside their keys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../electron/log';
import { NotificationService } from '../electron/notifications/service';
import { TelegramClient } from '../electron/notifications/telegram';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { translate, type Params } from '../shared/i18n';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTelegramStub, type TelegramStub } from './sim/telegram/server';
import { createTestDb, type TestDb } from './support/db';

const BOT = { token: '7012345678:AAHs1mTestTokenForTheStubOnly00000abcd', id: 7012345678, username: 'aristobot_test_bot' };
const CHAT = '424242';

let sim: ExchangeSim;
let tg: TelegramStub;
let tdb: TestDb;
let tr: DirectTrading;
let svc: NotificationService;
const secrets = memorySecrets();

const until = async (what: string, ok: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  sim = await startExchangeSim();
  tg = await startTelegramStub({ bots: [BOT], chats: [CHAT] });
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000' } });
  tr = await directTrading(tdb.db, sim.url, creds);
  const log = createLogger({ file: join(mkdtempSync(join(tmpdir(), 'aristobot-notify-i18n-')), 'test.log'), level: 'debug' });
  svc = new NotificationService({ db: tdb.db, bus: tr.bus, log, secrets, telegram: new TelegramClient(tg.url, 2000), config: { tickMs: 0, telegramMinIntervalMs: 0, retryBaseMs: 20_000, retryMaxMs: 60_000, now: () => Date.now() } });
  svc.start();
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  await tdb?.close();
  await tg?.close();
  await sim?.close();
});

// the fixture's profile has no settings row yet (the profile service makes it): one with the language
const setLanguage = (language: 'en' | 'fr' | null) =>
  tr.db.withProfile(tr.profileId, async (c) => {
    await c.query('INSERT INTO profile_settings DEFAULT VALUES ON CONFLICT DO NOTHING');
    return c.query('UPDATE profile_settings SET language = $1', [language]);
  });

describe('notifications in the profile language', () => {
  it('a French profile gets the Telegram test message and an event in French; the stored row keeps English and its keys', async () => {
    const { rowCount } = await setLanguage('fr');
    expect(rowCount).toBe(1);
    await svc.test(tr.profileId, { channel: 'telegram', token: BOT.token, chatId: CHAT });
    expect(tg.messages.map((m) => m.text)).toEqual(['Aristobot3 : message de test. Les notifications Telegram arrivent bien dans ce chat.']);

    await svc.updateSettings(tr.profileId, { routes: { engine_switched: ['in_app', 'telegram'] } });
    tr.bus.emit('engine.changed', { running: true, live: 2, note: '' }, { profileId: tr.profileId });
    await until('the Telegram message', () => tg.messages.length === 2);
    expect(tg.messages[1]!.text).toBe('Moteur du bot activé\n2 activations en cours.');

    const [n] = (await svc.list(tr.profileId)).items;
    expect(n).toMatchObject({ kind: 'engine_switched', title: 'Bot engine switched on', body: '2 activations running.' });
    expect(n!.titleText).toEqual({ key: 'core.notify.engineOn', params: {} });
    expect(n!.bodyText).toEqual({ key: 'core.notify.engineOnBody', params: { count: 2 } });
    // what the bell shows in French for that row
    expect(translate('fr', n!.bodyText!.key, n!.bodyText!.params as { count: number })).toBe('2 activations en cours.');
  });

  it('back to English: the next message is in English', async () => {
    await setLanguage('en');
    tr.bus.emit('engine.changed', { running: false, live: 0, note: '' }, { profileId: tr.profileId });
    await until('the Telegram message', () => tg.messages.length === 3);
    expect(tg.messages[2]!.text).toBe('Bot engine switched off\nNo new positions are opened; stop-losses and take-profits keep being executed.');
  });

  it("a bot's stop-loss, sent with its reason's key, reaches a French profile in French (the stored row keeps the English)", async () => {
    await setLanguage('fr');
    await svc.updateSettings(tr.profileId, { routes: { sltp_executed: ['in_app', 'telegram'] } });
    const reason = { key: 'coreBot.decision.stopLossReached', params: { level: '58000', low: '57990', high: '58100' } };
    tr.bus.emit(
      'bot.decision',
      { id: '33333333-3333-4333-8333-333333333333', activationId: '44444444-4444-4444-8444-444444444444', kind: 'stop_loss', candleTime: new Date().toISOString(), action: 'close', reason: translate('en', reason.key, reason.params), reasonKey: reason.key, reasonParams: reason.params, status: 'done', orderIds: [], error: null, errorKey: null, errorParams: null, latencyMs: null, createdAt: new Date().toISOString() },
      { profileId: tr.profileId },
    );
    await until('the Telegram message', () => tg.messages.length === 4);
    expect(tg.messages[3]!.text).toBe(`${translate('fr', 'core.notify.stopLoss')}\nstop-loss 58\u202f000 atteint (bougie 1m : plus bas 57\u202f990, plus haut 58\u202f100) : position clôturée.`);
    const [n] = (await svc.list(tr.profileId)).items;
    expect(n).toMatchObject({ kind: 'sltp_executed', body: 'stop-loss 58000 reached (1m candle low 57990, high 58100): position closed.' });
  });

  it("the Telegram queue's own notes (unreachable, disconnected, not set up, token missing) are stored by key and read in French; an older row shows its English", async () => {
    await setLanguage('fr');
    const ofRef = async () => (await svc.list(tr.profileId, { limit: 200 })).items;
    const before = (await ofRef()).length;
    // Telegram unreachable: queued, pending, with Telegram's failure by key
    tg.down = true;
    tr.bus.emit('engine.changed', { running: true, live: 1, note: '' }, { profileId: tr.profileId });
    let pending: Awaited<ReturnType<typeof ofRef>>[number] | undefined;
    const end = Date.now() + 8000;
    while (!(pending = (await ofRef()).find((n) => n.telegram?.status === 'pending' && n.telegram.attempts === 1)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect((await ofRef()).length).toBe(before + 1);
    expect(pending!.telegram).toMatchObject({ status: 'pending', error: expect.stringMatching(/^Telegram could not be reached/), errorKey: expect.stringMatching(/^coreRest\.telegram\.(unreachable|unreachableWhy|timeout)$/) });
    expect(translate('fr', pending!.telegram!.errorKey!, pending!.telegram!.errorParams as Params)).toMatch(/^Impossible de joindre Telegram/);
    expect(translate('en', pending!.telegram!.errorKey!, pending!.telegram!.errorParams as Params)).toBe(pending!.telegram!.error);

    // disconnected while it waits: failed, with the note by key
    await svc.updateSettings(tr.profileId, { telegramDisconnect: true });
    tg.down = false;
    const failed = (await ofRef()).find((n) => n.id === pending!.id)!;
    expect(failed.telegram).toEqual({ status: 'failed', attempts: 1, error: 'Telegram was disconnected before this message could be delivered.', errorKey: 'coreLast.telegram.disconnected', errorParams: {}, nextAttemptAt: null });
    expect(translate('fr', failed.telegram!.errorKey!, failed.telegram!.errorParams as Params)).toBe('Telegram a été déconnecté avant que ce message puisse être remis.');

    // routed to Telegram while it is not set up: failed at once, by key
    const notSet = await svc.notify(tr.profileId, { kind: 'engine_switched', level: 'info', title: { key: 'core.notify.engineOn' }, body: { key: 'core.notify.engineOnBody', params: { count: 1 } }, channels: ['in_app', 'telegram'] });
    expect(notSet!.telegram).toMatchObject({ status: 'failed', errorKey: 'coreLast.telegram.notSetUp', error: 'Telegram is not set up: enter the bot token and chat id in Account → Notifications.' });
    expect(translate('fr', notSet!.telegram!.errorKey!)).toBe("Telegram n'est pas configuré : saisissez le jeton du bot et l'identifiant de la discussion dans Compte → Notifications.");

    // set up again, then its token vanishes from the secret store: failed when the queue gets to it
    await svc.test(tr.profileId, { channel: 'telegram', token: BOT.token, chatId: CHAT });
    await svc.updateSettings(tr.profileId, { routes: { engine_switched: ['in_app', 'telegram'] } });
    const { rows } = await tr.db.withProfile(tr.profileId, (c) => c.query<{ telegram_secret_ref: string }>('SELECT telegram_secret_ref FROM notification_settings'));
    await secrets.store.delete(rows[0]!.telegram_secret_ref);
    tr.bus.emit('engine.changed', { running: false, live: 0, note: '' }, { profileId: tr.profileId });
    let lost: Awaited<ReturnType<typeof ofRef>>[number] | undefined;
    const end2 = Date.now() + 8000;
    while (!(lost = (await ofRef()).find((n) => n.telegram?.errorKey === 'coreLast.telegram.tokenMissing')) && Date.now() < end2) await new Promise((r) => setTimeout(r, 50));
    expect(lost!.telegram).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Telegram is not set up \(or its token is missing/) });
    expect(translate('fr', lost!.telegram!.errorKey!)).toMatch(/^Telegram n'est pas configuré \(ou son jeton est absent/);

    // a row stored before migration 0024 (no key): its English is what is shown
    await tr.db.withProfile(tr.profileId, (c) => c.query('UPDATE notifications SET telegram_error_key = NULL, telegram_error_params = NULL WHERE id = $1', [failed.id]));
    const old = (await ofRef()).find((n) => n.id === failed.id)!;
    expect(old.telegram).toMatchObject({ error: 'Telegram was disconnected before this message could be delivered.', errorKey: null, errorParams: null });
  });
});
