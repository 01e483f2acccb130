import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { StreamSimulator } from '../sim/stream/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * Statistics end to end in Chromium against the Binance simulator: a manual round trip placed through
 * the API, a webhook round trip posted to the listener as TradingView would (sender "tv-e2e") and a
 * bot activation's round trip (a strategy that buys at its first signal on the heartbeat, fed by the
 * stream simulator, then Sell); the Statistics page lists the three under their sources, draws the
 * equity chart and the P&L bars, and the CSV export downloads a file with the trades. The valuation
 * currency: an unknown one is refused with the reason and nothing changes; a known one revalues.
 */

const KEY = 'E2eStatsKey00000000000000000000000000000000000000000000000000001';
const SECRET = 'E2eStatsSecret0000000000000000000000000000000000000000000000001';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-trading-shots';

let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
let page: Page;
let stream: StreamSimulator;
let activationId = '';
const MIN = 60_000;

/** Waits (outside a test) until `fn` gives `want`; fails with the last value seen. */
async function waitFor<T>(what: string, fn: () => Promise<T>, want: T, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: expected ${String(want)}, got ${String(last)}`);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } }] });
  sim.series.setPrice('BTC/USDT', '60000');
  stream = await StreamSimulator.start({ startTime: Math.floor(Date.now() / MIN) * MIN + 30_000 });
  app = await startApp({
    env: {
      ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase', ARISTOBOT_WEBHOOK_PORT: '0',
      ARISTOBOT_HEARTBEAT: 'on', ARISTOBOT_BINANCE_WS_URL: stream.wsUrl, ARISTOBOT_BINANCE_REST_URL: stream.restUrl, ARISTOBOT_HEARTBEAT_BACKFILL_HOURS: '1',
    },
    timeoutMs: 180_000,
  });
  const ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Stats', password: 'pw-12345' });
  await ws.call('profiles.login', { name: 'Stats', password: 'pw-12345' });
  const broker = await ws.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
  // first sight of the account (the opening book), then a manual round trip
  await ws.call('stats.snapshot', { brokerId: broker.id });
  await ws.call('orders.place', { brokerId: broker.id, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.01' });
  sim.series.setPrice('BTC/USDT', '61000');
  await ws.call('orders.place', { brokerId: broker.id, symbol: 'BTC/USDT', side: 'sell', type: 'market', amount: '0.005' });
  // a webhook round trip from the sender "tv-e2e"
  const listener = await ws.call<{ url: string }>('webhooks.listener.start');
  const { secret } = await ws.call<{ secret: string }>('webhooks.secret.get');
  const post = async (action: string, id: string, extra: Record<string, unknown>) => {
    const res = await fetch(listener.url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ secret, id, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', action, sender: 'tv-e2e', ...extra }) });
    if (res.status !== 202) throw new Error(`the listener answered ${res.status}: ${await res.text()}`);
  };
  await post('BuyMarket', 'e2e-buy-1', { amount: '0.02' });
  await waitFor('webhook buy processed', async () => (await ws.call<{ status: string }[]>('webhooks.list')).filter((r) => r.status === 'processed').length, 1);
  sim.series.setPrice('BTC/USDT', '62000');
  await post('SellMarket', 'e2e-sell-1', { percent: 100 });
  await waitFor('webhook sell processed', async () => (await ws.call<{ status: string }[]>('webhooks.list')).filter((r) => r.status === 'processed').length, 2);
  // a bot activation's round trip: a strategy long from its first signal, then Sell
  const stored = async (openTime: number) => (await ws.call<{ openTime: number }[]>('candles.query', { symbol: 'BTC/USDT', timeframe: '1m', from: openTime, limit: 1 })).some((c) => c.openTime === openTime);
  await waitFor('heartbeat connected', async () => (await ws.call<{ connected: boolean }>('heartbeat.status')).connected, true, 30_000);
  stream.advance(2 * MIN);
  await waitFor('candles stored', () => stored(Math.floor(stream.now() / MIN) * MIN - MIN), true, 30_000);
  const code = `import { Strategy } from 'aristobot';\nexport default class AlwaysLong extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n  calculateStopLoss() { return null; }\n  calculateTakeProfit() { return null; }\n}\n`;
  const strategy = await ws.call<{ id: string }>('strategies.create', { name: 'Always long', code });
  activationId = (await ws.call<{ id: string }>('bot.create', { strategyId: strategy.id, brokerId: broker.id, symbol: 'BTC/USDT', timeframe: '1m', budget: '1000', override: true })).id;
  for (let i = 0; i < 10 && (await ws.call<{ position: unknown }>('bot.get', { id: activationId })).position === null; i++) {
    const open = Math.floor(stream.now() / MIN) * MIN;
    sim.series.setPrice('BTC/USDT', stream.series.candle('BTC/USDT', open).close);
    stream.advance(MIN);
    await waitFor('the decision settled', async () => (await ws.call<{ candleTime: string; status: string }[]>('bot.decisions', { id: activationId, limit: 5 })).some((d) => Date.parse(d.candleTime) === open && d.status !== 'pending'), true, 30_000);
  }
  await ws.call('bot.sell', { id: activationId });
  await waitFor('the activation closed its trade', async () => (await ws.call<unknown[]>('bot.trades', { id: activationId })).length, 1);
  // a deposit, found from the balances at the next snapshot
  sim.setBalance(KEY, 'USDT', (Number(sim.balances(KEY)['USDT']!.free) + 10000).toFixed(8));
  await ws.call('stats.snapshot', { brokerId: broker.id });
  await waitFor('three round trips', async () => (await ws.call<{ trades: unknown[] }>('stats.trades', { period: 'all' })).trades.length, 3);
  ws.close();
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.selectOption('[data-test=login-profile]', 'Stats');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
}, 480_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sim?.close();
  await stream?.close();
});

const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe('the Statistics page', () => {
  it('lists the manual, webhook and activation trades under their sources, draws the charts, exports CSV', async () => {
    await page.click('a[href="#/statistics"]');
    await page.waitForSelector('[data-test=stats-page]');
    await page.click('[data-test=stats-period-all]');
    await poll(() => page.locator('[data-test=trade-row]').count()).toBe(3);
    expect(await page.locator('[data-test=trade-row][data-book=manual]').count()).toBe(1);
    expect(await page.locator('[data-test="trade-row"][data-book="webhook:tv-e2e"]').count()).toBe(1);
    expect(await page.locator(`[data-test="trade-row"][data-book="strategy:${activationId}"]`).count()).toBe(1);
    const sources = await page.locator('[data-test=source-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(sources).toEqual(expect.arrayContaining(['manual', 'webhook:tv-e2e', `strategy:${activationId}`]));
    expect(await page.textContent('[data-test=stats-by-source]')).toContain('Webhook · tv-e2e');
    expect(await page.textContent('[data-test=stats-by-source]')).toContain('Always long');
    // the per-source figures add up to the total, to the last decimal
    const ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
    await ws.call('profiles.login', { name: 'Stats', password: 'pw-12345' });
    const by = await ws.call<{ rows: { key: string; trades: number; realisedPnl: string }[]; total: { trades: number; realisedPnl: string } }>('stats.bySource', { period: 'all' });
    ws.close();
    expect(by.rows.map((r) => r.key)).toEqual(expect.arrayContaining(['manual', `strategy:${activationId}`, 'webhook:tv-e2e']));
    expect(by.rows.reduce((a, r) => a + r.trades, 0)).toBe(by.total.trades);
    expect(by.rows.reduce((a, r) => a.plus(r.realisedPnl), new Decimal(0)).toFixed()).toBe(new Decimal(by.total.realisedPnl).toFixed());

    // both charts are drawn by lightweight-charts (canvases inside their containers)
    await poll(() => page.locator('[data-test=stats-equity-chart] canvas').count()).toBeGreaterThan(0);
    await poll(() => page.locator('[data-test=stats-daily-chart] canvas').count()).toBeGreaterThan(0);
    // the deposit is shown apart from what was made
    expect(await page.textContent('[data-test=kpi-equity]')).toContain('deposits − withdrawals 10,000.00');

    // filter the table by source, sort by P&L
    await page.selectOption('[data-test=trades-source]', 'webhook:tv-e2e');
    await poll(() => page.locator('[data-test=trade-row]').count()).toBe(1);
    await page.selectOption('[data-test=trades-source]', '');
    await page.click('[data-test=sort-pnl]');
    await poll(() => page.locator('[data-test=trade-row]').count()).toBe(3);

    await page.screenshot({ path: join(SHOTS, 'statistics.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=stats-export]')]);
    expect(download.suggestedFilename()).toBe('aristobot-trades-all.csv');
    const file = await download.path();
    const csv = readFileSync(file, 'utf8').trim().split('\r\n');
    expect(csv[0]).toMatch(/^closed_at,opened_at,broker,symbol,source,book,/);
    expect(csv).toHaveLength(4);
    expect(csv.some((l) => l.includes(',Sim,BTC/USDT,manual,Manual,'))).toBe(true);
    expect(csv.some((l) => l.includes(',Sim,BTC/USDT,webhook,Webhook · tv-e2e,'))).toBe(true);
  });

  it('a custom period whose end is before its start is refused with the reason', async () => {
    await page.click('[data-test=stats-period-custom]');
    await page.fill('[data-test=stats-from]', '2026-03-10');
    await page.fill('[data-test=stats-to]', '2026-03-01');
    await page.click('[data-test=stats-apply]');
    await poll(() => page.textContent('[data-test=stats-error]')).toMatch(/end of a custom period must be after its start/);
  });

  it('the valuation currency: picked from the brokers\' quote currencies; an unknown one is refused with the reason, nothing changes; a known one revalues the figures and survives a reload', async () => {
    await page.click('[data-test=stats-period-all]');
    await poll(() => page.locator('[data-test=trade-row]').count()).toBe(3);
    expect(await page.locator('[data-test=stats-currency-select]').inputValue()).toBe('USDT');
    const options = await page.locator('[data-test=stats-currency-select] option').evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(options).toEqual(expect.arrayContaining(['USDT', 'BTC', '__other']));
    const equity = await page.textContent('[data-test=kpi-equity]');
    const realised = await page.textContent('[data-test=kpi-realised]');
    await page.selectOption('[data-test=stats-currency-select]', '__other');
    await page.fill('[data-test=stats-currency-input]', 'NOPE');
    await page.click('[data-test=stats-currency-apply]');
    await poll(() => page.textContent('[data-test=stats-currency-error]')).toMatch(/Unknown currency "NOPE"/);
    const ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
    await ws.call('profiles.login', { name: 'Stats', password: 'pw-12345' });
    expect((await ws.call<{ currency: string }>('stats.settings')).currency).toBe('USDT');
    expect(await page.textContent('[data-test=kpi-equity]')).toBe(equity);
    await page.screenshot({ path: join(SHOTS, 'statistics-currency-refused.png') });

    await page.selectOption('[data-test=stats-currency-select]', 'BTC');
    await page.click('[data-test=stats-currency-apply]');
    await poll(() => page.textContent('[data-test=stats-currency-done]')).toMatch(/BTC/);
    expect(await page.locator('[data-test=stats-currency-error]').count()).toBe(0);
    expect((await ws.call<{ currency: string }>('stats.settings')).currency).toBe('BTC');
    await poll(() => page.textContent('[data-test=kpi-equity]')).toContain('(BTC)');
    // revalued: the realised P&L is now a (small) amount of BTC, the equity too
    await poll(() => page.textContent('[data-test=kpi-realised]')).not.toBe(realised);
    const inBtc = await ws.call<{ realisedPnl: string; equityEnd: string | null; currency: string }>('stats.summary', { period: 'all' });
    expect(inBtc.currency).toBe('BTC');
    expect(Math.abs(Number(inBtc.realisedPnl))).toBeLessThan(1);
    expect(Number(inBtc.equityEnd)).toBeGreaterThan(0);
    expect(Number(inBtc.equityEnd)).toBeLessThan(10);
    ws.close();

    // the choice survives a reload
    await page.reload();
    if (await page.locator('[data-test=login-profile]').count()) {
      await page.selectOption('[data-test=login-profile]', 'Stats');
      await page.fill('[data-test=login-password]', 'pw-12345');
      await page.click('[data-test=login-submit]');
    }
    await page.waitForSelector('[data-test=header]');
    if (!(await page.locator('[data-test=stats-page]').count())) await page.click('a[href="#/statistics"]');
    await page.waitForSelector('[data-test=stats-page]');
    await poll(() => page.locator('[data-test=stats-currency-select]').inputValue()).toBe('BTC');
    await poll(() => page.textContent('[data-test=kpi-equity]')).toContain('(BTC)');
  });

  it('the page in French and in English (dark theme), screenshotted', async () => {
    for (const language of ['fr', 'en'] as const) {
      await page.click('a[href="#/account"]');
      await page.click(`[data-test=lang-${language}]`);
      await poll(() => page.getAttribute('html', 'lang')).toBe(language);
      await page.click('a[href="#/statistics"]');
      await page.waitForSelector('[data-test=stats-page]');
      await page.click('[data-test=stats-period-all]');
      await poll(() => page.locator('[data-test=trade-row]').count()).toBe(3);
      await poll(() => page.textContent('[data-test=stats-currency]')).toContain(language === 'fr' ? 'Valorisé en' : 'Valued in');
      expect((await page.getAttribute('html', 'data-theme')) ?? 'dark').toBe('dark');
      await page.waitForTimeout(500); // the charts draw on the next frame
      await page.screenshot({ path: join(SHOTS, `statistics-${language}.png`), fullPage: true });
    }
  });
});
