import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

/** The Backtest page in Chromium against the real headless app: import, run, progress, results, history. */

const GOOG = resolve(import.meta.dirname, '../../../shared/data/ohlcv/GOOG.csv');
let browser: Browser;
let app: RunningApp;
let page: Page;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.setViewportSize({ width: 1500, height: 1300 });
  await page.click('[data-test=new-profile]');
  await page.fill('[data-test=create-name]', 'Backtester');
  await page.fill('[data-test=create-password]', 'pw-12345');
  await page.fill('[data-test=create-password2]', 'pw-12345');
  await page.click('[data-test=create-submit]');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=brokers]');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('the Backtest page', () => {
  it('import a CSV, run with progress, see metrics, the chart with markers and the trades; reopen from history', async () => {
    await page.click('a[href="#/backtest"]');
    await page.click('[data-test=firstrun-later]'); // a profile without a broker: past the first-run guide
    await page.waitForSelector('[data-test=bt-form]');

    // import GOOG daily as a data set
    await page.fill('[data-test=imp-name]', 'csv-goog');
    await page.fill('[data-test=imp-symbol]', 'GOOG/USD');
    await page.selectOption('[data-test=imp-timeframe]', '1d');
    await page.setInputFiles('[data-test=imp-file]', GOOG);
    await page.click('[data-test=imp-go]');
    await expect.poll(() => page.textContent('[data-test=imp-result]')).toMatch(/2,148 candles imported \(08\/19\/2004 → 03\/01\/2013\)/); // en-US number and date formats
    expect(await page.inputValue('[data-test=bt-symbol]')).toBe('GOOG/USD');

    // the example SMA cross with fees; watch the progress section while it runs
    await page.selectOption('[data-test=bt-strategy]', 'example:sma-cross');
    await page.check('[data-test=bt-override-fees]');
    await page.fill('[data-test=bt-maker]', '0.001');
    await page.fill('[data-test=bt-taker]', '0.001');
    await page.evaluate(`(() => {
      window.seen = { progress: false, cancel: false };
      new MutationObserver(() => {
        if (document.querySelector('[data-test=bt-progress]')) window.seen.progress = true;
        if (document.querySelector('[data-test=bt-cancel]')) window.seen.cancel = true;
      }).observe(document.body, { childList: true, subtree: true });
    })()`);
    await page.click('[data-test=bt-run]');
    await page.waitForSelector('[data-test=bt-metrics]', { timeout: 30_000 });
    expect(await page.evaluate('window.seen')).toEqual({ progress: true, cancel: true });

    const ret = await page.textContent('[data-test=metric-returnPct] strong');
    expect(ret).toMatch(/^-?[\d,]+\.\d\d%$/); // en-US percent
    expect(await page.textContent('[data-test=metric-tradeCount] strong')).toMatch(/^\d+$/);
    const trades = Number(await page.textContent('[data-test=metric-tradeCount] strong'));
    expect(trades).toBeGreaterThan(10);
    expect(await page.locator('[data-test=bt-trade]').count()).toBe(trades);
    expect(await page.locator('[data-test=bt-chart] canvas').count()).toBeGreaterThan(0);
    expect(Number(await page.getAttribute('[data-test=bt-chart]', 'data-markers'))).toBe(trades * 2);
    await page.screenshot({ path: "/tmp/backtest-e2e.png", fullPage: true });

    // a second run with other params, then compare the two side by side
    await page.fill('[data-test=bt-param-fast]', '5');
    await page.click('[data-test=bt-run]');
    await expect.poll(() => page.locator('[data-test=bt-history-row]').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.textContent('[data-test=bt-history-row]:nth-child(1)')).toContain('done');
    await page.locator('[data-test=bt-compare]').nth(0).check();
    await page.locator('[data-test=bt-compare]').nth(1).check();
    await page.waitForSelector('[data-test=bt-compare-table]');

    // leave the page, come back: the first run reopens from the history
    await page.click('a[href="#/account"]');
    await page.waitForSelector('[data-test=bt-form]', { state: 'detached' });
    await page.click('a[href="#/backtest"]');
    await page.waitForSelector('[data-test=bt-history-row]');
    expect(await page.locator('[data-test=bt-result]').count()).toBe(0);
    await page.locator('[data-test=bt-open]').nth(1).click();
    await page.waitForSelector('[data-test=bt-metrics]');
    expect(await page.textContent('[data-test=metric-returnPct] strong')).toBe(ret);
    expect(await page.locator('[data-test=bt-trade]').count()).toBe(trades);
  });

  it('bad input is shown, nothing runs', async () => {
    const before = await page.locator('[data-test=bt-history-row]').count();
    await page.fill('[data-test=bt-amount]', '0');
    await page.click('[data-test=bt-run]');
    await expect.poll(() => page.textContent('[data-test=bt-error]')).toMatch(/greater than zero/);
    expect(await page.locator('[data-test=bt-history-row]').count()).toBe(before);
    await page.fill('[data-test=bt-amount]', '10000');
  });

  it('optimise a grid and see the ranked rows', async () => {
    await page.fill('[data-test=opt-grid-fast]', '5, 10');
    await page.fill('[data-test=opt-grid-slow]', '20, 30');
    await page.fill('[data-test=opt-holdout]', '2011-01-01');
    await page.click('[data-test=opt-go]');
    await page.waitForSelector('[data-test=opt-results]', { timeout: 60_000 });
    expect(await page.locator('[data-test=opt-row]').count()).toBe(4);
    await page.screenshot({ path: "/tmp/backtest-optimise.png", fullPage: true });
  });
});
