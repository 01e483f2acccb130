import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramStub, type TelegramStub } from '../sim/telegram/server';
import { launchBrowser, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * Notifications end to end in Chromium (headless shell): Account → Notifications sets up Telegram
 * against a local Bot API stub (wrong token, wrong chat id, then a working pair), a real event (a
 * webhook refused by the real listener) lights the header's bell, shows in the history, reaches
 * Telegram and the browser's Notification API (permission granted to the page).
 */

const BOT = { token: '7011223344:AAE2eNotifyTokenForTheStubOnly000k7m2', id: 7011223344, username: 'aristobot_e2e_bot' };
const CHAT = '777000111';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS;
/** Runs in the page before its scripts: wraps the browser's Notification to record what is shown. */
const RECORD_NOTIFICATIONS = `(() => {
  const Real = window.Notification;
  const shown = (window.__shown = []);
  class Recorded extends Real {
    constructor(title, options) {
      shown.push({ title, body: options && options.body });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Object.defineProperty(Recorded, 'requestPermission', { value: Real.requestPermission.bind(Real) });
  window.Notification = Recorded;
})();`;

let tg: TelegramStub;
let app: RunningApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  tg = await startTelegramStub({ bots: [BOT], chats: [CHAT] });
  app = await startApp({ env: { ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e notify vault', ARISTOBOT_TELEGRAM_API_URL: tg.url, ARISTOBOT_TELEGRAM_MIN_INTERVAL_MS: '0', ARISTOBOT_WEBHOOK_PORT: '0', ARISTOBOT_WEBHOOK_WATCH_MS: '0' } });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.grantPermissions(['notifications'], { origin: new URL(app.url).origin });
  // record what the page hands to the browser's Notification API (the real one still runs)
  await context.addInitScript(RECORD_NOTIFICATIONS);
  page = await context.newPage();
  await page.goto(`${app.url}?token=${app.token}`);
  await page.click('[data-test=new-profile]');
  await page.fill('[data-test=create-name]', 'Notified');
  await page.fill('[data-test=create-password]', 'pw-12345');
  await page.fill('[data-test=create-password2]', 'pw-12345');
  await page.click('[data-test=create-submit]');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=notif-settings] [data-test=notif-routes]');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await tg?.close();
});

describe('notifications, end to end in Chromium', () => {
  it('Account: the Telegram test says which field is wrong, then saves a working bot', async () => {
    await expect.poll(() => page.textContent('[data-test=notif-telegram-state]')).toMatch(/Not set up/);
    // Telegram cannot be chosen before it is set up
    expect(await page.isDisabled('[data-test=notif-route-order_filled-telegram]')).toBe(true);

    await page.fill('[data-test=notif-telegram-token]', BOT.token.replace('k7m2', 'xxxx'));
    await page.fill('[data-test=notif-telegram-chat]', CHAT);
    await page.click('[data-test=notif-telegram-test]');
    await expect.poll(() => page.textContent('[data-test=notif-telegram-token-error]')).toMatch(/401 Unauthorized/);
    expect(await page.isVisible('[data-test=notif-telegram-chat-error]')).toBe(false);

    await page.fill('[data-test=notif-telegram-token]', BOT.token);
    await page.fill('[data-test=notif-telegram-chat]', '123');
    await page.click('[data-test=notif-telegram-test]');
    await expect.poll(() => page.textContent('[data-test=notif-telegram-chat-error]')).toMatch(/chat not found/);
    expect(await page.isVisible('[data-test=notif-telegram-token-error]')).toBe(false);
    await expect.poll(() => page.textContent('[data-test=notif-telegram-state]')).toMatch(/Not set up/);
    expect(tg.messages).toEqual([]);

    await page.fill('[data-test=notif-telegram-chat]', CHAT);
    await page.click('[data-test=notif-telegram-test]');
    await expect.poll(() => page.textContent('[data-test=notif-settings-ok]')).toMatch(/Test message sent/);
    await expect.poll(() => page.textContent('[data-test=notif-telegram-state]')).toMatch(/@aristobot_e2e_bot · token ••••k7m2 · chat 777000111/);
    expect(tg.messages.map((m) => m.chatId)).toEqual([CHAT]);
    expect(await page.inputValue('[data-test=notif-telegram-token]')).toBe('');
    const state = await page.evaluate('document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)');
    expect(state).not.toContain(BOT.token.split(':')[1]);

    // route refused webhooks to every channel
    await page.check('[data-test=notif-route-webhook_refused-desktop]');
    await expect.poll(() => page.isChecked('[data-test=notif-route-webhook_refused-desktop]')).toBe(true);
    await page.check('[data-test=notif-route-webhook_refused-telegram]');
    await expect.poll(() => page.textContent('[data-test=notif-settings-ok]')).toMatch(/Saved/);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/notify-settings.png`, fullPage: true });
  });

  it('a real refused webhook lights the bell, shows in the history, reaches Telegram and the browser', async () => {
    expect(await page.isVisible('[data-test=notif-count]')).toBe(false);
    // the same profile from a script: start the webhook listener and send an alert with a wrong secret
    const api = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
    await api.call('profiles.login', { name: 'Notified', password: 'pw-12345' });
    const { url } = await api.call<{ url: string }>('webhooks.listener.start');
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ secret: 'not-the-secret', action: 'BuyMarket', symbol: 'BTCUSDT' }) });
    expect(r.status).toBe(401);

    await expect.poll(() => page.textContent('[data-test=notif-count]'), { timeout: 10_000 }).toBe('1');
    await page.click('[data-test=notif-bell]');
    const item = page.locator('[data-test=notif-item][data-kind=webhook_refused]');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toMatch(/Webhook refused.*BuyMarket BTCUSDT: Wrong secret/s);
    await expect.poll(() => item.locator('[data-test=notif-telegram]').getAttribute('data-status'), { timeout: 10_000 }).toBe('sent');
    expect(tg.messages.at(-1)!.text).toMatch(/^Webhook refused\nBuyMarket BTCUSDT: Wrong secret/);
    const shown = (await page.evaluate('window.__shown')) as { title: string }[];
    expect(shown.map((s) => s.title)).toEqual(['Webhook refused']);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/notify-bell.png` });

    // reading it clears the count
    await page.click('[data-test=notif-read-all]');
    await expect.poll(() => page.isVisible('[data-test=notif-count]')).toBe(false);
    await api.call('webhooks.listener.stop');
    api.close();
  });
});
