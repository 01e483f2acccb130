import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * Paper trading end to end in Chromium, against the Binance simulator's public market data: add a
 * paper broker on the Account page (PAPER badge), a manual paper order, activate a strategy on it
 * and see its road to live and its comparison with the backtest on the Trading bot page.
 */

const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-paper-shots';
let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
let page: Page;
let ws: WsClient;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startExchangeSim();
  sim.series.setPrice('BTC/USDT', '60000');
  app = await startApp({ env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_BINANCE_REST_URL: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase' } });
  ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Paper', password: 'pw-12345' });
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.selectOption('[data-test=login-profile]', 'Paper');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
  await ws.call('profiles.login', { name: 'Paper', password: 'pw-12345' });
}, 120_000);
afterAll(async () => {
  ws?.close();
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

describe('paper trading in Chromium', () => {
  it('adds a paper broker, trades on it, activates a strategy and shows its road to live', async () => {
    await page.click('.sidebar >> text=Account');
    await page.click('[data-test=add-paper-broker]');
    await page.fill('[data-test=paper-name]', 'Paper BTC');
    await page.fill('[data-test=paper-amount-0]', '-5');
    await page.click('[data-test=paper-save]');
    await page.waitForSelector('[data-test=paper-error]');
    expect(await page.textContent('[data-test=paper-error]')).toMatch(/negative/);
    await page.fill('[data-test=paper-amount-0]', '10000');
    await page.click('[data-test=paper-save]');
    await page.waitForSelector('[data-test="broker-row-Paper BTC"] [data-test=paper-badge]');
    await page.screenshot({ path: join(SHOTS, 'account-paper.png'), fullPage: true });

    const brokers = await ws.call<{ id: string; name: string; paper: boolean }[]>('brokers.list');
    const paper = brokers.find((b) => b.name === 'Paper BTC')!;
    expect(paper.paper).toBe(true);
    const o = await ws.call<{ status: string; mode: string; averagePrice: string }>('orders.place', { brokerId: paper.id, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.01' });
    expect(o).toMatchObject({ status: 'filled', mode: 'paper', averagePrice: '60000' });

    const s = await ws.call<{ id: string }>('strategies.create', { name: 'EMA paper', template: 'ema-cross' });
    await ws.call('bot.create', { strategyId: s.id, brokerId: paper.id, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' });
    await page.click('.sidebar >> text=Trading bot');
    await page.waitForSelector('[data-test=road-step-code][data-ok=true]');
    expect(await page.getAttribute('[data-test=road-step-backtest]', 'data-ok')).toBe('false');
    expect(await page.getAttribute('[data-test=road-step-paper]', 'data-ok')).toBe('false');
    expect(await page.textContent('[data-test=road-mode]')).toBe('PAPER');
    await page.click('[data-test=lvb-compare]');
    await page.waitForSelector('[data-test=lvb-note]');
    await page.screenshot({ path: join(SHOTS, 'bot-road.png'), fullPage: true });
  });
});
