import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * Webhooks end to end in Chromium against the Binance simulator: start the listener from the page,
 * copy an alert template, post it as TradingView would (text/plain), and see the request arrive in
 * the live journal with the order it placed; a PING from the "Send a test alert" button; a refused
 * alert with its reason.
 */

const KEY = 'E2eWebhookKey0000000000000000000000000000000000000000000000001';
const SECRET = 'E2eWebhookSecret00000000000000000000000000000000000000000000001';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-trading-shots';

let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } }] });
  sim.series.setPrice('BTC/USDT', '60000');
  app = await startApp({ env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase', ARISTOBOT_WEBHOOK_PORT: '0' } });
  const ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Hooks', password: 'pw-12345' });
  await ws.call('profiles.login', { name: 'Hooks', password: 'pw-12345' });
  await ws.call('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
  ws.close();
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.url).origin });
  await page.selectOption('[data-test=login-profile]', 'Hooks');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const text = (sel: string) => page.textContent(sel).then((t) => t?.trim() ?? '');

describe('the Webhooks page', () => {
  it('start the listener, copy a template, post the alert, see it in the journal with its order', async () => {
    await page.click('a[href="#/webhooks"]');
    await page.waitForSelector('[data-test=wh-listener]');
    await poll(() => page.getAttribute('[data-test=wh-state]', 'data-running')).toBe('no');
    await page.click('[data-test=wh-toggle]');
    await poll(() => page.getAttribute('[data-test=wh-state]', 'data-running')).toBe('yes');
    const localUrl = await text('[data-test=wh-local-url]');
    expect(localUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook\/[A-Za-z0-9_-]{16,}$/);
    expect(localUrl).not.toMatch(/:0\//);

    // the test alert goes through the same path
    await page.click('[data-test=wh-test]');
    await poll(() => text('[data-test=wh-test-result]')).toBe('HTTP 200 — processed');
    await poll(() => page.locator('[data-test=wh-request][data-status=processed]').count()).toBe(1);

    // copy the BuyMarket template; fill TradingView's placeholders as TradingView would
    await page.click('[data-test=wh-copy-BuyMarket]');
    const message = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(message).toContain('"action": "BuyMarket"');
    expect(message).toContain('"broker": "Sim"');
    expect(message).toContain('{{ticker}}');
    const alert = message.replace('{{ticker}}', 'BINANCE:BTCUSDT').replace('{{close}}', '60000').replace('{{interval}}', '5').replace('{{strategy.order.id}}-{{timenow}}', 'e2e-long-1');
    const res = await fetch(localUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: alert });
    expect(res.status).toBe(202);

    const row = page.locator('[data-test=wh-request][data-alert-id="e2e-long-1"]');
    await poll(() => row.getAttribute('data-status')).toBe('processed');
    await poll(() => row.locator('[data-test=wh-order-status]').textContent()).toBe('filled');
    expect(await row.textContent()).toContain('BTC/USDT');
    expect(sim.orders(KEY).filter((o) => o.side === 'BUY' && o.status === 'FILLED')).toHaveLength(1);
    await poll(() => page.locator('[data-test="wh-position-BTC/USDT"]').count()).toBe(1);

    // a refused alert shows its reason; the secret is never shown in the journal
    const bad = await fetch(localUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: alert.replace('"BuyMarket"', '"BuyEverything"').replace('e2e-long-1', 'e2e-bad') });
    expect(bad.status).toBe(422);
    const refused = page.locator('[data-test=wh-request][data-alert-id="e2e-bad"]');
    await poll(() => refused.getAttribute('data-status')).toBe('rejected');
    expect(await refused.textContent()).toContain('Unknown action "BuyEverything"');
    await poll(() => text('[data-test=wh-stats-24h]')).toMatch(/3 received.*2 processed.*1 refused/s);

    // with a stop-loss and a take-profit: native orders at the exchange (an OCO pair), and the journal says so
    expect(message).toContain('"sl": ""');
    const guarded = alert.replace('e2e-long-1', 'e2e-long-2').replace('"sl": ""', '"sl": "55000"').replace('"tp": ""', '"tp": "65000"');
    expect((await fetch(localUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: guarded })).status).toBe(202);
    const prot = page.locator('[data-test=wh-request][data-alert-id="e2e-long-2"]');
    await poll(() => prot.getAttribute('data-status')).toBe('processed');
    await poll(() => prot.locator('[data-test=wh-request-protection]').textContent()).toBe('SL/TP native');
    await poll(() => text('[data-test="wh-position-BTC/USDT"] [data-test=wh-position-protection]')).toBe('native orders');
    expect(sim.orders(KEY).filter((o) => o.type === 'STOP_LOSS' || o.type === 'TAKE_PROFIT').map((o) => o.status)).toEqual(['NEW', 'NEW']);
    await page.screenshot({ path: join(SHOTS, 'webhooks.png'), fullPage: true });

    // in French: the journal's reasons come from the core by key and read in French; the journal's
    // English text is only the fallback (an old row without a key)
    await page.click('a[href="#/account"]');
    await page.click('[data-test=lang-fr]');
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('fr');
    await page.click('a[href="#/webhooks"]');
    await poll(() => refused.locator('[data-test=wh-request-reason]').textContent()).toBe('Action inconnue « BuyEverything » : utilisez l\'une de PING, BuyMarket, SellMarket, BuyLimit, SellLimit, MAJ.');
    expect(await row.locator('[data-test=wh-request-reason]').textContent()).toMatch(/^Ordre exécuté, quantité exécutée : \d+,\d+ BTC\.$/); // the French decimal comma
    expect(await prot.locator('[data-test=wh-request-reason]').textContent()).toContain('Stop-loss / take-profit : ordres natifs sur la plateforme.');
    const ping = page.locator('[data-test=wh-request][data-status=processed]').last();
    expect(await ping.locator('[data-test=wh-request-reason]').textContent()).toBe('actif');
    await page.screenshot({ path: join(SHOTS, 'webhooks-fr.png'), fullPage: true });
  });
});
