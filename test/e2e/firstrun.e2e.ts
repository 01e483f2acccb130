import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * The first-run guide in Chromium, against the Binance simulator's public market data: a fresh
 * profile sees the guide on every page that needs a broker, follows it (paper broker in one click,
 * markets, a watched symbol) to Manual trading and places a paper order there; "I'll do it later"
 * survives a reload; an unreachable exchange is said clearly, retried, and nothing is created twice.
 */

const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-firstrun-shots';
let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
let page: Page;
let ws: WsClient;

const GUIDED = ['heartbeat', 'trading', 'bot', 'backtest', 'webhooks', 'statistics'];
const poll = <T>(fn: () => Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });
const text = (sel: string) => page.textContent(sel).then((t) => t?.trim() ?? '');

async function startSim(port = 0): Promise<ExchangeSim> {
  const s = await startExchangeSim({ port });
  s.series.setPrice('BTC/USDT', '60000');
  s.series.setPrice('ETH/USDT', '3000');
  return s;
}

async function loginAs(name: string): Promise<void> {
  if (await page.locator('[data-test=logout]').count()) {
    await page.click('[data-test=logout]');
    await page.waitForSelector('[data-test=login]');
  }
  await page.selectOption('[data-test=login-profile]', name);
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
  await ws.call('profiles.login', { name, password: 'pw-12345' });
}

async function visit(route: string): Promise<void> {
  await page.click(`.sidebar a[href="#/${route}"]`);
  await poll(() => page.evaluate('location.hash')).toBe(`#/${route}`);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startSim();
  app = await startApp({ env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_BINANCE_REST_URL: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase' } });
  ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  for (const name of ['Fresh', 'Later', 'Offline']) await ws.call('profiles.create', { name, password: 'pw-12345' });
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await loginAs('Fresh');
}, 120_000);
afterAll(async () => {
  ws?.close();
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

describe('the first-run guide in Chromium', () => {
  it('a fresh profile sees the guide instead of the broker pages and follows it to a working paper broker', async () => {
    // the guide stands in for every page that needs a broker; Account and Strategies stay as they are
    for (const route of GUIDED) {
      await visit(route);
      await page.waitForSelector(`[data-test=firstrun-guide][data-route="/${route}"]`);
    }
    await visit('account');
    await page.waitForSelector('[data-test=brokers]');
    expect(await page.locator('[data-test=firstrun-guide]').count()).toBe(0);
    await page.waitForSelector('[data-test=firstrun-banner]');
    await page.screenshot({ path: join(SHOTS, '0-account-banner.png'), fullPage: true });
    await visit('strategies');
    expect(await page.locator('[data-test=firstrun-guide]').count()).toBe(0);
    // Account, where a login lands, points to the guide
    await visit('account');
    await page.click('[data-test=firstrun-banner-start]');
    await page.waitForSelector('[data-test=firstrun-guide][data-route="/trading"]');
    expect(await page.locator('[data-test=firstrun-banner]').count()).toBe(0);

    await visit('heartbeat');
    await page.waitForSelector('[data-test=firstrun-guide]');
    for (const step of ['broker', 'markets', 'watch']) expect(await page.getAttribute(`[data-test=firstrun-step-${step}]`, 'data-state')).toBe('pending');
    await page.screenshot({ path: join(SHOTS, '1-guide-dark.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'light'");
    await page.screenshot({ path: join(SHOTS, '1-guide-light.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");

    // a wrong starting balance is said before anything is sent
    await page.fill('[data-test=firstrun-balance]', '-5');
    await page.click('[data-test=firstrun-paper]');
    expect(await text('[data-test=firstrun-broker-error]')).toMatch(/positive number/);
    expect(await ws.call<unknown[]>('brokers.list')).toEqual([]);

    // 1) a paper broker in one click, 2) its markets load at once
    await page.fill('[data-test=firstrun-balance]', '10000');
    await page.click('[data-test=firstrun-paper]');
    await page.waitForSelector('[data-test=firstrun-step-broker][data-state=done] [data-test=paper-badge]');
    await page.waitForSelector('[data-test=firstrun-step-markets][data-state=done]', { timeout: 30_000 });
    expect(await text('[data-test=firstrun-markets-done]')).toMatch(/^6 markets of Binance loaded\.$/);
    const brokers = await ws.call<{ id: string; name: string; exchange: string; paper: boolean }[]>('brokers.list');
    expect(brokers).toEqual([expect.objectContaining({ name: 'Paper', exchange: 'binance', paper: true })]);
    const paper = brokers[0]!;
    const portfolio = await ws.call<{ assets: { asset: string; total: string }[] }>('portfolio.get', { brokerId: paper.id });
    expect(portfolio.assets.find((a) => a.asset === 'USDT')?.total).toBe('10000');

    // 3) watch a symbol picked among the loaded markets (BTC/USDT is offered first)
    await poll(() => page.inputValue('[data-test=firstrun-symbol]')).toBe('BTC/USDT');
    await page.fill('[data-test=firstrun-symbol-search]', 'ETH');
    await poll(async () => (await page.locator('[data-test=firstrun-symbol] option').allTextContents()).sort()).toEqual(['ETH/BTC', 'ETH/USDT']);
    await page.selectOption('[data-test=firstrun-symbol]', 'ETH/USDT');
    await page.click('[data-test=firstrun-watch]');
    await page.waitForSelector('[data-test=firstrun-step-watch][data-state=done]');
    const watched = await ws.call<{ symbol: string }[]>('heartbeat.symbols.list');
    expect(watched.map((w) => w.symbol)).toContain('ETH/USDT');
    await page.screenshot({ path: join(SHOTS, '2-guide-done-dark.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'light'");
    await page.screenshot({ path: join(SHOTS, '2-guide-done-light.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");

    // the end: Manual trading on the paper broker and the watched symbol; a paper market buy fills
    await page.click('[data-test=firstrun-go]');
    await page.waitForSelector('[data-test=trading]');
    expect(await page.evaluate('location.hash')).toBe('#/trading');
    await poll(() => page.locator('[data-test=broker-select] option:checked').textContent()).toContain('Paper (binance, PAPER');
    await poll(() => text('[data-test=ticket-last]')).toBe('3,000 USDT');
    await page.click('[data-test=type-market]');
    await page.fill('[data-test=ticket-amount]', '0.1');
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toMatch(/^Order placed: buy 0\.1 ETH market/);
    const history = await ws.call<{ symbol: string; status: string; mode: string }[]>('orders.history', { brokerId: paper.id, days: 1 });
    expect(history).toEqual([expect.objectContaining({ symbol: 'ETH/USDT', status: 'filled', mode: 'paper' })]);
    await page.screenshot({ path: join(SHOTS, '3-trading-after-guide.png'), fullPage: true });

    // with a broker, the pages are back
    await visit('heartbeat');
    await page.waitForSelector('[data-test=hb-symbols]');
    expect(await page.locator('[data-test=firstrun-guide]').count()).toBe(0);
    await visit('account');
    await page.waitForSelector('[data-test="broker-row-Paper"]');
    expect(await page.locator('[data-test=firstrun-banner]').count()).toBe(0);
  });

  it('"I\'ll do it later" is remembered for the profile after a reload (and shown in its language)', async () => {
    await loginAs('Later');
    await visit('backtest');
    await page.waitForSelector('[data-test=firstrun-guide]');
    // in French (the profile's language), every word of the guide from the catalogue
    await ws.call('settings.update', { language: 'fr' });
    await poll(() => text('[data-test=firstrun-guide] h2')).toBe('Premiers pas');
    expect(await text('[data-test=firstrun-paper]')).toBe('Créer un broker papier');
    expect(await text('[data-test=firstrun-later]')).toBe('Plus tard');
    await page.screenshot({ path: join(SHOTS, '5-guide-fr.png'), fullPage: true });
    await page.click('[data-test=firstrun-later]');
    await page.waitForSelector('[data-test=bt-form]');
    await page.reload();
    await page.waitForSelector('[data-test=login]');
    await page.selectOption('[data-test=login-profile]', 'Later');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=header]');
    for (const route of ['backtest', 'heartbeat', 'trading']) {
      await visit(route);
      expect(await page.locator('[data-test=firstrun-guide]').count()).toBe(0);
    }
    await page.waitForSelector('[data-test=trading]');
    // the profile still has no broker: dismissing created nothing
    await ws.call('profiles.login', { name: 'Later', password: 'pw-12345' });
    expect(await ws.call<unknown[]>('brokers.list')).toEqual([]);
  });

  it('an unreachable exchange: the markets step says so, nothing is created twice, and a retry finishes it', async () => {
    await loginAs('Offline'); // another profile: the dismissal above is not its own
    await visit('trading');
    await page.waitForSelector('[data-test=firstrun-guide]');
    const before = await ws.call<{ exchanges: { exchange: string; count: number; loadedAt: string }[] }>('markets.summary');
    const watchedBefore = await ws.call<{ symbol: string }[]>('heartbeat.symbols.list');
    const port = sim.port;
    await sim.close(); // the exchange is gone

    await page.click('[data-test=firstrun-paper]');
    await page.waitForSelector('[data-test=firstrun-step-markets][data-state=failed]', { timeout: 30_000 });
    expect(await text('[data-test=firstrun-markets-error]')).toMatch(/The markets of Binance could not be loaded: the exchange did not answer\. Check your internet connection .* then retry\. Your broker is kept\./);
    expect(await page.getAttribute('[data-test=firstrun-step-watch]', 'data-state')).toBe('pending');
    await page.screenshot({ path: join(SHOTS, '4-markets-failed-dark.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'light'");
    await page.screenshot({ path: join(SHOTS, '4-markets-failed-light.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");
    // nothing half-done: the one broker of step 1, the markets stored before untouched, no symbol added
    expect((await ws.call<{ name: string }[]>('brokers.list')).map((b) => b.name)).toEqual(['Paper']);
    expect((await ws.call<typeof before>('markets.summary')).exchanges).toEqual(before.exchanges);
    expect(await ws.call('heartbeat.symbols.list')).toEqual(watchedBefore);

    // the exchange is back: Retry loads the markets, still one broker
    sim = await startSim(port);
    await page.click('[data-test=firstrun-markets-retry]');
    await page.waitForSelector('[data-test=firstrun-step-markets][data-state=done]', { timeout: 30_000 });
    expect(await page.locator('[data-test=firstrun-markets-error]').count()).toBe(0);
    expect((await ws.call<{ name: string }[]>('brokers.list')).map((b) => b.name)).toEqual(['Paper']);
    await page.waitForSelector('[data-test=firstrun-step-watch] [data-test=firstrun-watch]');
  });
});
