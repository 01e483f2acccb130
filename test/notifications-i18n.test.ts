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
import { translate } from '../shared/i18n';
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
  svc = new NotificationService({ db: tdb.db, bus: tr.bus, log, secrets: memorySecrets(), telegram: new TelegramClient(tg.url, 2000), config: { tickMs: 0, telegramMinIntervalMs: 0, retryBaseMs: 20_000, retryMaxMs: 60_000, now: () => Date.now() } });
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
    expect(tg.messages[3]!.text).toBe(`${translate('fr', 'core.notify.stopLoss')}\nstop-loss 58000 atteint (bougie 1m : plus bas 57990, plus haut 58100) : position clôturée.`);
    const [n] = (await svc.list(tr.profileId)).items;
    expect(n).toMatchObject({ kind: 'sltp_executed', body: 'stop-loss 58000 reached (1m candle low 57990, high 58100): position closed.' });
  });
});
