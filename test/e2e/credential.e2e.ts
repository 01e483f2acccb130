import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApp, type RunningApp } from '../support/app';

/**
 * Issue 8, item 3: the headless browser credential against another web server on 127.0.0.1 (another
 * port). Browsers do not separate cookies by port: a cookie credential would reach that server with
 * every request, and that server's page could set a same-name cookie (Path=/api) shadowing it.
 */
let browser: Browser;
let app: RunningApp;
let other: Server;
let otherUrl: string;
const seen: { path: string; cookie: string | undefined; body: string }[] = [];

// The other local server's page: reads what it can, tries the app's socket without a token, and
// tosses same-name cookies (Path=/api and Path=/) for 127.0.0.1.
const EVIL_PAGE = `<!doctype html><meta charset="utf-8"><title>other</title><script>
(async () => {
  const report = { cookie: document.cookie, session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) };
  document.cookie = 'aristobot_token=shadowed; Path=/api';
  document.cookie = 'aristobot_token=shadowed; Path=/';
  document.cookie = 'aristobot.token=shadowed; Path=/';
  report.socket = await new Promise((r) => {
    try {
      const ws = new WebSocket('ws://' + location.hostname + ':' + new URLSearchParams(location.search).get('app') + '/api', ['aristobot']);
      ws.onopen = () => r('open');
      ws.onerror = () => r('refused');
    } catch (e) { r('error ' + e); }
  });
  await fetch('/report', { method: 'POST', body: JSON.stringify(report) });
  document.title = 'done';
})();
</script>`;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startApp()]);
  other = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', cookie: req.headers.cookie, body });
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(req.url?.startsWith('/report') ? 'ok' : EVIL_PAGE);
    });
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  const addr = other.address();
  otherUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  other?.close();
});

describe('the headless browser credential', () => {
  it('another 127.0.0.1 port can neither read the token nor shadow it; the app keeps working in the tab and after a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${app.url}?token=${app.token}`);
    await page.waitForSelector('[data-test=login]');
    expect(page.url()).not.toContain('token=');

    // The other server's page, in the same tab and in another tab of the same browser.
    const appPort = new URL(app.url).port;
    await page.goto(`${otherUrl}?app=${appPort}`);
    await page.waitForFunction("document.title === 'done'");
    const second = await context.newPage();
    await second.goto(`${otherUrl}page2?app=${appPort}`);
    await second.waitForFunction("document.title === 'done'");
    await second.close();

    // Nothing the other server received (headers, what its page could read) holds the token.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(seen)).not.toContain(app.token);
    expect(JSON.stringify(seen)).not.toContain(encodeURIComponent(app.token));
    const reports = seen.filter((s) => s.path === '/report').map((s) => JSON.parse(s.body) as { socket: string });
    expect(reports.map((r) => r.socket)).toEqual(['refused', 'refused']);
    // the app's socket was never opened by the other origin (the origin check and the token both refuse it)

    // Back to the app in the same tab (no token in the address): the shadowing cookies change nothing.
    const cookies = await context.cookies(app.url);
    expect(cookies.map((c) => c.name)).toContain('aristobot_token'); // they really were set for 127.0.0.1
    await page.goto(app.url);
    await page.waitForSelector('[data-test=login]');
    await page.click('[data-test=new-profile]');
    await page.fill('[data-test=create-name]', 'Cred');
    await page.fill('[data-test=create-password]', 'pw-12345');
    await page.fill('[data-test=create-password2]', 'pw-12345');
    await page.click('[data-test=create-submit]');
    await page.waitForSelector('[data-test=create-form]', { state: 'detached' });
    await page.reload();
    await page.waitForSelector('[data-test=login]');
    await page.selectOption('[data-test=login-profile]', 'Cred');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=header]');

    // A fresh tab without the token is told plainly how to get in (nothing else of the app runs).
    const bare = await browser.newPage();
    await bare.goto(app.url);
    await expect.poll(() => bare.textContent('[data-test=fatal]').catch(() => '')).toContain('no access token');
    await bare.screenshot({ path: `${app.dataDir}/no-token.png` });
    await bare.close();
    await context.close();
  });
});
