import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS, PriceSeries, type SeriesSymbol } from '../sim/series';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

const EXTRA: Record<string, SeriesSymbol> = {};
for (let i = 0; i < 6000; i++) EXTRA[`Z${i}/USDT`] = { base: 1 + i, priceDecimals: 4, volumeDecimals: 2 };
const KEY = 'E2eKey0000000000000000000000000000000000000000000000000000009f3c';
const SECRET = 'E2eSecret000000000000000000000000000000000000000000000000canary42';

let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
beforeAll(async () => {
  sim = await startExchangeSim({ series: new PriceSeries(3, { ...DEFAULT_SYMBOLS, ...EXTRA }), accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '2500', ETH: '1.25' } }] });
  app = await startApp({ env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e vault passphrase' } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

describe('brokers and markets, end to end in Chromium', () => {
  it('add a broker on the simulator, test it, save, update markets with progress; testnet inverts the header', async () => {
    const page = await openApp(browser, app);
    await page.click('[data-test=new-profile]');
    await page.fill('[data-test=create-name]', 'Brokered');
    await page.fill('[data-test=create-password]', 'pw-12345');
    await page.fill('[data-test=create-password2]', 'pw-12345');
    await page.click('[data-test=create-submit]');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=brokers]');

    await page.click('[data-test=add-broker]');
    await page.fill('[data-test=exchange-search]', 'binance');
    await page.selectOption('[data-test=exchange-select]', 'binance');
    expect(await page.locator('[data-test^=cred-]').count()).toBe(2); // binance needs apiKey + secret
    // a wrong secret: the exchange's refusal, in the modal, nothing saved
    await page.fill('[data-test=cred-apiKey]', KEY);
    await page.fill('[data-test=cred-secret]', 'not-the-secret');
    await page.click('[data-test=broker-test]');
    await expect.poll(() => page.textContent('[data-test=broker-test-error]')).toMatch(/binance refused the API key \(code -1022/);
    await page.fill('[data-test=cred-secret]', SECRET);
    await page.click('[data-test=broker-test]');
    await page.waitForSelector('[data-test=broker-balances]');
    const balances = await page.textContent('[data-test=broker-balances]');
    expect(balances).toContain('ETH');
    expect(balances).toContain('1.25');
    expect(balances).toContain('2,500'); // amounts are formatted for the language (English here)
    await page.screenshot({ path: `${app.dataDir}/broker-modal.png` });
    await page.click('[data-test=broker-save]');
    await page.waitForSelector('[data-test=broker-form]', { state: 'detached' });
    await page.waitForSelector('[data-test=broker-row-Binance]');
    // the secret is in no part of the page or its storage
    const state = await page.evaluate('document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)');
    expect(state).not.toContain(SECRET);
    expect(state).not.toContain(KEY);

    await page.click('[data-test=update-markets-Binance]');
    await page.waitForSelector('[data-test=status-markets]:has-text("Loading binance")');
    await page.screenshot({ path: `${app.dataDir}/markets-loading.png` });
    const total = Object.keys(DEFAULT_SYMBOLS).length + 6000;
    await expect.poll(() => page.textContent('[data-test=status-markets]'), { timeout: 60_000 }).toBe(`${total.toLocaleString('en-US')} markets`); // counts are formatted for the language (English here)

    // testnet mode: the header inverts, with a red border
    const style = (sel: string, prop: string) => page.evaluate(`getComputedStyle(document.querySelector('${sel}'))['${prop}']`);
    expect(await style('[data-test=status-bar]', 'filter')).toBe('none');
    await page.check('[data-test=testnet-toggle]');
    await page.waitForSelector('[data-test=status-testnet]');
    expect(await style('[data-test=status-bar]', 'filter')).toContain('invert(1)');
    expect(await style('[data-test=header]', 'borderTopColor')).toBe('rgb(255, 0, 85)');
    await page.screenshot({ path: `${app.dataDir}/testnet.png` });

    // Testnet is per profile: another profile logs in to a live header, and its switch is off.
    const relogin = async (name: string, create: boolean) => {
      await page.click('[data-test=logout]');
      await page.waitForSelector('[data-test=login]');
      if (create) {
        await page.click('[data-test=new-profile]');
        await page.fill('[data-test=create-name]', name);
        await page.fill('[data-test=create-password]', 'pw-12345');
        await page.fill('[data-test=create-password2]', 'pw-12345');
        await page.click('[data-test=create-submit]');
        await page.waitForSelector('[data-test=create-form]', { state: 'detached' });
      }
      await page.selectOption('[data-test=login-profile]', name);
      await page.fill('[data-test=login-password]', 'pw-12345');
      await page.click('[data-test=login-submit]');
      await page.waitForSelector('[data-test=header]');
    };
    await relogin('Other', true);
    await page.waitForSelector('[data-test=testnet-toggle]');
    await expect.poll(() => page.isChecked('[data-test=testnet-toggle]')).toBe(false);
    expect(await page.locator('[data-test=status-testnet]').count()).toBe(0);
    expect(await style('[data-test=status-bar]', 'filter')).toBe('none');
    // …and back: the first profile is still on its testnet
    await relogin('Brokered', false);
    await page.waitForSelector('[data-test=status-testnet]');
    await expect.poll(() => page.isChecked('[data-test=testnet-toggle]')).toBe(true);
    await page.uncheck('[data-test=testnet-toggle]');
    await page.waitForSelector('[data-test=status-testnet]', { state: 'detached' });
    await page.close();
  });

  it('in French, the broker form says what is wrong with each field in French', async () => {
    const page = await openApp(browser, app);
    await page.click('[data-test=new-profile]');
    await page.fill('[data-test=create-name]', 'Francophone');
    await page.fill('[data-test=create-password]', 'pw-12345');
    await page.fill('[data-test=create-password2]', 'pw-12345');
    await page.click('[data-test=create-submit]');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=brokers]');
    await page.click('[data-test=lang-fr]');
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('fr');
    await page.click('[data-test=add-broker]');
    await page.fill('[data-test=exchange-search]', 'binance');
    await page.selectOption('[data-test=exchange-select]', 'binance');
    await page.fill('[data-test=cred-apiKey]', KEY); // the secret left empty
    await page.click('[data-test=broker-test]');
    await expect.poll(() => page.textContent('[data-test=cred-secret-error]')).toBe('secret est obligatoire pour Binance');
    await page.screenshot({ path: `${app.dataDir}/broker-form-fr.png` });
    await page.close();
  });
});
