import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamSimulator } from '../sim/stream/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

let browser: Browser;
let sim: StreamSimulator;
let app: RunningApp;
const MIN = 60_000;

beforeAll(async () => {
  sim = await StreamSimulator.start({ startTime: Math.floor(Date.now() / MIN) * MIN + 30_000 });
  app = await startApp({
    env: {
      ARISTOBOT_HEARTBEAT: 'on',
      ARISTOBOT_BINANCE_WS_URL: sim.wsUrl,
      ARISTOBOT_BINANCE_REST_URL: sim.restUrl,
      ARISTOBOT_HEARTBEAT_BACKFILL_HOURS: '2',
    },
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

const colorOf = (page: Page, sel: string) => page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(sel)})).color`);
const lines = (page: Page, tf: string, origin: 'stored' | 'live') => page.locator(`[data-test=hb-box-${tf}] li[data-origin=${origin}]`).count();

describe('heartbeat, end to end in Chromium', () => {
  it('boxes fill from the database in orange, live signals arrive in green; the light follows the stream', async () => {
    const page = await openApp(browser, app);
    await page.click('[data-test=new-profile]');
    await page.fill('[data-test=create-name]', 'Watcher');
    await page.fill('[data-test=create-password]', 'pw-12345');
    await page.fill('[data-test=create-password2]', 'pw-12345');
    await page.click('[data-test=create-submit]');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=header]');
    // the stream connects and the backfill stores the last two hours
    await expect.poll(() => page.getAttribute('[data-test=status-heartbeat]', 'data-state'), { timeout: 30_000 }).toBe('ok');
    await page.click('.sidebar >> text=Heartbeat');
    await page.click('[data-test=firstrun-later]'); // a profile without a broker: past the first-run guide
    await page.waitForSelector('[data-test="hb-symbol-BTC/USDT"]');
    await expect
      .poll(async () => {
        await page.click('.sidebar >> text=Account');
        await page.click('.sidebar >> text=Heartbeat');
        return lines(page, '1h', 'stored');
      }, { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(await lines(page, '1m', 'stored')).toBe(60); // 60 kept, newest on top
    expect(await lines(page, '1m', 'live')).toBe(0);
    const orange = await colorOf(page, '[data-test=hb-box-1m] li[data-origin=stored]');
    expect(orange).toBe('rgb(255, 165, 0)');

    // live minutes from the stream: green, on top
    for (let i = 0; i < 5; i++) sim.advance(MIN);
    await expect.poll(() => lines(page, '1m', 'live'), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    const first = page.locator('[data-test=hb-box-1m] li').first();
    expect(await first.getAttribute('data-origin')).toBe('live');
    expect(await colorOf(page, '[data-test=hb-box-1m] li:first-child')).toBe('rgb(0, 255, 136)');
    expect(await first.textContent()).toMatch(/^1m \d\d\/\d\d\/\d{4}, \d\d:\d\d BTC\/USDT/); // times in the language (English here)
    await expect.poll(() => page.locator('[data-test=hb-raw] li').count()).toBeGreaterThan(3);
    await page.screenshot({ path: `${app.dataDir}/heartbeat.png`, fullPage: true });

    // the stream drops and refuses: red; it returns: green
    sim.rejectConnections(true);
    sim.drop();
    await expect.poll(() => page.getAttribute('[data-test=status-heartbeat]', 'data-state'), { timeout: 15_000 }).toBe('danger');
    expect(await page.textContent('[data-test=hb-state]')).toBe('disconnected');
    // why, worded from the status's key (no raw reason code such as `connect_failed`)
    await expect.poll(() => page.textContent('[data-test=hb-last-error]'), { timeout: 15_000 }).toMatch(/^Last error: stream disconnected \((connection dropped|could not connect)\)$/);
    await page.screenshot({ path: `${app.dataDir}/heartbeat-down.png` });
    sim.rejectConnections(false);
    await expect.poll(() => page.getAttribute('[data-test=status-heartbeat]', 'data-state'), { timeout: 30_000 }).toBe('ok');

    // an unknown symbol is refused with a clear message
    await page.fill('[data-test=hb-add-input]', 'NOPE/USDT');
    await page.click('[data-test=hb-add]');
    await expect.poll(() => page.textContent('[data-test=hb-error]')).toContain('NOPE/USDT is not a market on Binance');
    await page.close();
  });
});
