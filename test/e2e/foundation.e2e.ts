import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => browser?.close());

async function createProfile(page: Page, name: string, password: string) {
  await page.click('[data-test=new-profile]');
  await page.fill('[data-test=create-name]', name);
  await page.fill('[data-test=create-password]', password);
  await page.fill('[data-test=create-password2]', password);
  await page.click('[data-test=create-submit]');
  await page.waitForSelector('[data-test=create-form]', { state: 'detached' });
}

async function login(page: Page, name: string, password: string) {
  await page.selectOption('[data-test=login-profile]', name);
  await page.fill('[data-test=login-password]', password);
  await page.click('[data-test=login-submit]');
}

describe('foundation, end to end in Chromium', () => {
  let app: RunningApp;
  afterAll(async () => app?.stop());

  it('create profile → log in → wrong password refused → theme change survives reload → log out; no debug switch', async () => {
    app = await startApp();
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=login]');
    expect(await page.locator('[data-test=debug-switch]').count()).toBe(0);
    expect(page.url()).not.toContain('token='); // the token is dropped from the address bar

    // validation error names the field, in the modal
    await page.click('[data-test=new-profile]');
    await page.fill('[data-test=create-name]', 'bad/name');
    await page.fill('[data-test=create-password]', 'pw-12345');
    await page.fill('[data-test=create-password2]', 'pw-12345');
    await page.click('[data-test=create-submit]');
    await expect.poll(() => page.textContent('[data-test=create-name-error]')).toContain('name may contain');
    await page.keyboard.press('Escape');

    await createProfile(page, 'Trader', 'pw-12345');
    await createProfile(page, 'Second', 'pw-67890');

    await login(page, 'Trader', 'wrong-password');
    await expect.poll(() => page.textContent('[data-test=login-error]')).toBe('Wrong password');

    await login(page, 'Trader', 'pw-12345');
    await page.waitForSelector('[data-test=header]');
    expect(await page.textContent('[data-test=profile-name]')).toBe('Trader');
    expect(await page.locator('.sidebar').getByText('Account').count()).toBe(1);
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');

    await page.click('[data-test=theme-light]');
    await expect.poll(() => page.getAttribute('html', 'data-theme'), { timeout: 10_000 }).toBe('light');
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(243, 245, 249)');

    // reload: a new connection (the session is per connection), log in again, theme kept. The tab
    // keeps the access token in its sessionStorage: no cookie exists (none could leak to other ports).
    expect(await page.context().cookies()).toEqual([]);
    await page.reload();
    await page.waitForSelector('[data-test=login]');
    await login(page, 'Trader', 'pw-12345');
    await page.waitForSelector('[data-test=header]');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('light');
    // the page's own choice comes from the profile's settings, loaded just after the header shows
    await expect.poll(() => page.getAttribute('[data-test=theme-light]', 'aria-pressed'), { timeout: 10_000 }).toBe('true');

    // the other profile keeps its own (default) theme
    await page.click('[data-test=logout]');
    await page.waitForSelector('[data-test=login]');
    await login(page, 'Second', 'pw-67890');
    await page.waitForSelector('[data-test=header]');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('dark');

    // change password: wrong current refused, right one works
    await page.fill('[data-test=pw-current]', 'nope');
    await page.fill('[data-test=pw-new]', 'pw-new-1');
    await page.fill('[data-test=pw-new2]', 'pw-new-1');
    await page.click('[data-test=pw-submit]');
    await expect.poll(() => page.textContent('[data-test=pw-message]')).toBe('Wrong password');
    await page.fill('[data-test=pw-current]', 'pw-67890');
    await page.click('[data-test=pw-submit]');
    await expect.poll(() => page.textContent('[data-test=pw-message]')).toBe('Password changed.');

    await page.click('[data-test=logout]');
    await page.waitForSelector('[data-test=login]');
    await page.screenshot({ path: `${app.dataDir}/login.png` });
    await page.close();
  });

  it('a second instance on the same data folder is refused with a clear message; the first keeps running', async () => {
    await expect(startApp({ dataDir: app.dataDir, timeoutMs: 30_000 })).rejects.toThrow(/exited with 3:[\s\S]*already running with the data folder/);
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=login]');
    await page.close();
  });

  it('survives SIGKILL: the bundled PostgreSQL recovers and the data is kept', async () => {
    const dataDir = app.dataDir;
    await app.kill('SIGKILL');
    app = await startApp({ dataDir });
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=login]');
    await login(page, 'Trader', 'pw-12345');
    await page.waitForSelector('[data-test=header]');
    await expect.poll(() => page.getAttribute('html', 'data-theme'), { timeout: 20_000 }).toBe('light');
    await page.close();
  });
});

describe('external database unreachable, end to end', () => {
  let app: RunningApp;
  afterAll(async () => app?.stop());

  it('shows which URL failed and why, with Retry; the password is not shown', async () => {
    app = await startApp({ env: { ARISTOBOT_DATABASE_URL: 'postgres://trader:hunter2-secret@127.0.0.1:1/aristobot' } });
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=unavailable]');
    const text = await page.textContent('[data-test=unavailable-message]');
    expect(text).toContain('postgres://trader:****@127.0.0.1:1/aristobot');
    expect(text).toContain('connection refused');
    expect(await page.content()).not.toContain('hunter2-secret');
    await page.click('[data-test=retry]');
    await page.waitForSelector('[data-test=retry]:not([disabled])');
    expect(await page.textContent('[data-test=unavailable-message]')).toContain('connection refused');
    await page.screenshot({ path: `${app.dataDir}/unavailable.png` });
    await page.close();
  });
});

describe('development mode, end to end', () => {
  let app: RunningApp;
  afterAll(async () => app?.stop());

  it('with ARISTOBOT_DEBUG=1 the switch logs in `dev` and the status bar says so; the state persists', async () => {
    app = await startApp({ env: { ARISTOBOT_DEBUG: '1' } });
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=debug-switch]');
    await page.check('[data-test=debug-toggle]');
    await page.waitForSelector('[data-test=header]');
    expect(await page.textContent('[data-test=profile-name]')).toBe('dev');
    expect(await page.textContent('[data-test=status-debug]')).toBe('Debug active');
    await page.screenshot({ path: `${app.dataDir}/account.png`, fullPage: true });
    // reload: still on, so `dev` is logged in again without typing
    await page.reload();
    await page.waitForSelector('[data-test=header]');
    expect(await page.textContent('[data-test=profile-name]')).toBe('dev');
    await page.close();
  });

  it('without ARISTOBOT_DEBUG the persisted switch is forced off and absent', async () => {
    const dataDir = app.dataDir;
    await app.stop();
    app = await startApp({ dataDir, env: { ARISTOBOT_DEBUG: '' } });
    const page = await openApp(browser, app);
    await page.waitForSelector('[data-test=login]');
    expect(await page.locator('[data-test=debug-switch]').count()).toBe(0);
    await login(page, 'dev', 'dev');
    await page.waitForSelector('[data-test=header]');
    expect(await page.locator('[data-test=status-debug]').count()).toBe(0);
    await page.close();
  });
});
