import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { StreamSimulator } from '../sim/stream/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * The charts end to end in Chromium (issue 15, item 3): the heartbeat on the stream simulator, the
 * broker on the Binance REST simulator. Heartbeat page: the chart of the watched symbol shows its
 * stored candles, the forming candle moves with the stream, a close settles it to the stored candle
 * and the next one appears. Manual trading: the market's chart (the heartbeat's candles, live; an
 * unwatched market's from the exchange), a limit order → a price line, its fill → a marker. The
 * assertions read the chart's series data (exposed as data attributes), not pixels; screenshots
 * go to ARISTOBOT_SCREENSHOTS.
 */

const KEY = 'E2eChartsKey000000000000000000000000000000000000000000000000001';
const SECRET = 'E2eChartsSecret00000000000000000000000000000000000000000000001';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-charts-shots';
const MIN = 60_000;
const BTC = 'BTC/USDT';

let browser: Browser;
let stream: StreamSimulator;
let ex: ExchangeSim;
let app: RunningApp;
let page: Page;
let ws: WsClient;
let brokerId = '';

type Bar = { time: number; open: number; high: number; low: number; close: number };
type Line = { id: string; side: string; price: string; title: string };
type Marker = { id: string; time: number; position: string; text: string };

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // the start minute ≡ 2 (mod 5) and at most 4 minutes ahead of the real one: the heartbeat test's
  // 5m step then lands on a 5-minute boundary (a period whose forming candle is its first minute)
  const now = Math.floor(Date.now() / MIN) * MIN;
  stream = await StreamSimulator.start({ startTime: now + (((2 - (now / MIN) % 5) + 5) % 5) * MIN + 30_000 });
  ex = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '100000', BTC: '1' } }] });
  app = await startApp({
    env: {
      ARISTOBOT_HEARTBEAT: 'on',
      ARISTOBOT_BINANCE_WS_URL: stream.wsUrl,
      ARISTOBOT_BINANCE_REST_URL: stream.restUrl,
      ARISTOBOT_HEARTBEAT_BACKFILL_HOURS: '2',
      ARISTOBOT_EXCHANGE_URL_binance: ex.url,
      ARISTOBOT_SECRETS_BACKEND: 'vault',
      ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase',
    },
  });
  ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Charts', password: 'pw-12345' });
  await ws.call('profiles.login', { name: 'Charts', password: 'pw-12345' });
  brokerId = (await ws.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.selectOption('[data-test=login-profile]', 'Charts');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
});
afterAll(async () => {
  if (app) writeFileSync(join(SHOTS, 'app-output.log'), app.output());
  ws?.close();
  await browser?.close();
  await app?.stop();
  await ex?.close();
  await stream?.close();
});

const poll = <T>(fn: () => Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });
const attr = (sel: string, name: string) => page.getAttribute(sel, name).then((v) => v ?? '');
const num = (sel: string, name: string) => attr(sel, name).then(Number);
const last = async (sel: string): Promise<Bar | null> => {
  const v = await attr(sel, 'data-last');
  return v ? (JSON.parse(v) as Bar) : null;
};
const stored = async (openTime: number) => (await ws.call<{ openTime: number }[]>('candles.query', { symbol: BTC, timeframe: '1m', from: openTime, limit: 1 })).some((c) => c.openTime === openTime);
const asBar = (openTime: number, c: { open: string; high: string; low: string; close: string }): Bar => ({ time: openTime / 1000, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) });

describe('charts, end to end in Chromium', () => {
  it('Heartbeat: the chart shows the stored candles, the forming one moves live, a close settles it and the next appears', async () => {
    await poll(() => attr('[data-test=status-heartbeat]', 'data-state'), 30_000).toBe('ok');
    // the simulated clock goes ahead of the real one, so the backfill never takes a minute the stream still has to close
    stream.advance(2 * MIN);
    const m = Math.floor(stream.now() / MIN) * MIN; // the minute forming now (30 s into it)
    await poll(() => stored(m - MIN), 30_000).toBe(true);
    await page.click('.sidebar >> text=Heartbeat');
    const chart = '[data-test=hb-chart]';
    await page.waitForSelector(chart);
    await poll(() => attr(chart, 'data-symbol')).toBe(BTC);
    await page.selectOption('[data-test=hb-chart-timeframe]', '1m');
    // the stored candles: the last one is the last closed minute, as stored
    await poll(async () => (await last(chart))?.time).toBe((m - MIN) / 1000);
    const count = await num(chart, 'data-candles');
    expect(count).toBeGreaterThan(60);
    const [prev] = await ws.call<{ openTime: number; open: string; high: string; low: string; close: string }[]>('candles.query', { symbol: BTC, timeframe: '1m', from: m - MIN, limit: 1 });
    expect(await last(chart)).toEqual(asBar(m - MIN, prev!));
    const updates = await num(chart, 'data-updates');

    // 20 s more: the stream's in-progress update of minute m → the forming candle appears and moves
    stream.advance(20_000);
    await poll(async () => (await last(chart))?.time).toBe(m / 1000);
    expect(await num(chart, 'data-candles')).toBe(count + 1);
    expect(await num(chart, 'data-updates')).toBeGreaterThan(updates);
    const forming = (await last(chart))!;
    await page.screenshot({ path: join(SHOTS, 'heartbeat-chart.png'), fullPage: true });

    // the minute closes: its candle is the one the stream closed (and the heartbeat stored)
    stream.advance(15_000);
    const closed = stream.series.candle(BTC, m);
    await poll(() => last(chart)).toEqual(asBar(m, { open: String(closed.open), high: String(closed.high), low: String(closed.low), close: String(closed.close) }));
    expect((await last(chart))!.open).toBe(forming.open);
    await poll(() => stored(m), 30_000).toBe(true);
    const [row] = await ws.call<{ openTime: number; open: string; high: string; low: string; close: string }[]>('candles.query', { symbol: BTC, timeframe: '1m', from: m, limit: 1 });
    expect(await last(chart)).toEqual(asBar(m, row!));

    // the next minute's first update: a new candle
    stream.advance(20_000);
    await poll(async () => (await last(chart))?.time).toBe((m + MIN) / 1000);
    expect(await num(chart, 'data-candles')).toBe(count + 2);

    // another timeframe: 5m bars on 5-minute boundaries, the forming one included — here the period
    // that began with the forming minute (none of its minutes stored yet): shown from its last update
    expect((m + MIN) % (5 * MIN)).toBe(0);
    await page.selectOption('[data-test=hb-chart-timeframe]', '5m');
    await poll(() => attr(chart, 'data-timeframe')).toBe('5m');
    await poll(async () => (await last(chart))?.time).toBe((m + MIN) / 1000);
    const u5 = await num(chart, 'data-updates');
    stream.advance(20_000);
    await poll(() => num(chart, 'data-updates')).toBeGreaterThan(u5);
    await page.screenshot({ path: join(SHOTS, 'heartbeat-chart-5m.png'), fullPage: true });
  });

  it('Manual trading: the market chart; a limit order → a price line; its fill → a marker', async () => {
    await page.click('.sidebar >> text=Manual trading');
    const chart = '[data-test=market-chart]';
    await page.waitForSelector(chart);
    await poll(() => attr(chart, 'data-symbol')).toBe(BTC);
    await page.selectOption('[data-test=market-chart-timeframe]', '1m');
    // BTC/USDT is watched on the broker's exchange: the heartbeat's candles, live
    await poll(() => attr(chart, 'data-source')).toBe('heartbeat');
    await poll(() => num(chart, 'data-candles')).toBeGreaterThan(60);
    const t0 = (await last(chart))!.time;
    stream.advance(MIN);
    await poll(async () => (await last(chart))!.time).toBeGreaterThan(t0);

    // the broker trades at the stream's price
    const price = Math.round(Number(stream.series.candle(BTC, Math.floor(stream.now() / MIN) * MIN - MIN).close));
    ex.series.setPrice(BTC, String(price));
    const limit = String(Math.round(price * 0.98));
    const order = await ws.call<{ id: string; status: string }>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: limit });
    expect(order.status).toBe('open');
    await poll(async () => JSON.parse(await attr(chart, 'data-lines')) as Line[]).toEqual([{ id: order.id, side: 'buy', price: limit, title: 'Buy 0.01' }]);
    await page.screenshot({ path: join(SHOTS, 'trading-chart-line.png'), fullPage: true });

    // the price falls through the limit: the order fills → its line goes, a marker below the bar
    ex.series.setPrice(BTC, String(Math.round(price * 0.97)));
    ex.tick();
    await poll(async () => JSON.parse(await attr(chart, 'data-lines')) as Line[], 30_000).toEqual([]);
    await poll(async () => (JSON.parse(await attr(chart, 'data-markers')) as Marker[]).map((x) => [x.position, x.text]), 30_000).toEqual([['belowBar', 'B 0.01']]);
    // a market sell: a marker above the bar
    await ws.call('orders.place', { brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.005' });
    await poll(async () => (JSON.parse(await attr(chart, 'data-markers')) as Marker[]).map((x) => [x.position, x.text]).sort(), 30_000).toEqual([['aboveBar', 'S 0.005'], ['belowBar', 'B 0.01']]);
    const bars = (await last(chart))!;
    const markers = JSON.parse(await attr(chart, 'data-markers')) as Marker[];
    expect(markers.every((x) => x.time <= bars.time)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'trading-chart.png'), fullPage: true });

    // the light theme and French: the chart follows (screenshot), its data unchanged
    await page.evaluate("document.documentElement.dataset.theme = 'light'");
    await page.screenshot({ path: join(SHOTS, 'trading-chart-light.png'), fullPage: true });
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");

    // a market the heartbeat does not watch: the exchange's candles through CCXT
    await page.click('[data-test=market-search]');
    await page.fill('[data-test=market-search]', 'ETH');
    await page.click('[data-test="market-ETH/USDT"]');
    await poll(() => attr(chart, 'data-symbol')).toBe('ETH/USDT');
    await poll(() => attr(chart, 'data-source')).toBe('exchange');
    await poll(() => num(chart, 'data-candles')).toBeGreaterThan(100);
    expect(JSON.parse(await attr(chart, 'data-lines'))).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'trading-chart-exchange.png'), fullPage: true });
  });
});
