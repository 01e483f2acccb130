import { mkdirSync, writeFileSync } from 'node:fs';
import Decimal from 'decimal.js';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodOutput } from '../../shared/contract';
import { translate, type Params } from '../../shared/i18n';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { StreamSimulator } from '../sim/stream/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * The trading bot page end to end in Chromium: the heartbeat on the stream simulator, the broker on
 * the Binance REST simulator (its price set to each streamed minute's close). Activate a template
 * strategy through the form (bad input refused verbatim, nothing created), see decisions and a
 * trade appear on live signals with the chart following, Sell, Suspend / Resume, the engine switch
 * in the header (off: the page says protection keeps working, decisions say "engine off"), Stop
 * with a position (close, then keep on a second activation), Delete.
 */

type Activation = MethodOutput<'bot.get'>;
type Decision = MethodOutput<'bot.decisions'>[number];
type Trade = MethodOutput<'bot.trades'>[number];

const KEY = 'E2eBotKey0000000000000000000000000000000000000000000000000000001';
const SECRET = 'E2eBotSecret000000000000000000000000000000000000000000000000001';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-bot-shots';
const MIN = 60_000;
const BTC = 'BTC/USDT';

let browser: Browser;
let stream: StreamSimulator;
let ex: ExchangeSim;
let app: RunningApp;
let page: Page;
let ws: WsClient;
let id = '';

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stream = await StreamSimulator.start({ startTime: Math.floor(Date.now() / MIN) * MIN + 30_000 });
  ex = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000' } }] });
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
    timeoutMs: 150_000,
  });
  // The profile, its broker and a strategy from a template, over the API (their pages have their own tests).
  ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Bot', password: 'pw-12345' });
  await ws.call('profiles.login', { name: 'Bot', password: 'pw-12345' });
  await ws.call('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
  await ws.call('strategies.create', { name: 'EMA cross', template: 'ema-cross' });
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.selectOption('[data-test=login-profile]', 'Bot');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
}, 240_000); // a loaded machine (several test runs at once) may take more than a minute to start the app
afterAll(async () => {
  if (app) writeFileSync(join(SHOTS, 'app-output.log'), app.output());
  ws?.close();
  await browser?.close();
  await app?.stop();
  await ex?.close();
  await stream?.close();
});

const poll = <T>(fn: () => Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout });
const text = (sel: string) => page.textContent(sel).then((t) => t?.trim() ?? '');
const card = (sel = '') => `[data-test=bot-activation-${id}] ${sel}`.trim();
const get = () => ws.call<Activation>('bot.get', { id });
const decisions = (limit = 10) => ws.call<Decision[]>('bot.decisions', { id, limit });
const trades = () => ws.call<Trade[]>('bot.trades', { id });
const stored = async (openTime: number) => (await ws.call<{ openTime: number }[]>('candles.query', { symbol: BTC, timeframe: '1m', from: openTime, limit: 1 })).some((c) => c.openTime === openTime);

/**
 * One simulated minute: the broker's price becomes the closing minute's close, the stream closes
 * it. With `decided`, waits for the activation's decision on that candle to be settled (its order
 * answered: the decision is journaled before its order is sent). Returns its open time.
 */
async function minute(decided = true): Promise<number> {
  const open = Math.floor(stream.now() / MIN) * MIN;
  ex.series.setPrice(BTC, stream.series.candle(BTC, open).close);
  stream.advance(MIN);
  if (decided) await poll(async () => (await decisions(5)).some((d) => Date.parse(d.candleTime) === open && d.status !== 'pending'), 30_000).toBe(true);
  else await poll(() => stored(open), 30_000).toBe(true);
  return open;
}
/** Minutes until `done` holds (at most `max`). */
async function until(done: () => Promise<boolean>, max: number): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    await minute();
  }
  expect(await done()).toBe(true);
}

describe('the trading bot page, end to end in Chromium', () => {
  it('the form: bad input is refused verbatim and creates nothing; a template strategy is activated', async () => {
    await poll(() => page.getAttribute('[data-test=status-heartbeat]', 'data-state'), 30_000).toBe('ok');
    // The simulated clock goes ahead of the real one: the backfill (up to the real now) can then
    // never take as closed a minute the stream has yet to close (that minute would bring no signal).
    stream.advance(2 * MIN);
    await poll(() => stored(Math.floor(stream.now() / MIN) * MIN - MIN), 30_000).toBe(true);
    await page.click('.sidebar >> text=Trading bot');
    await page.waitForSelector('[data-test=bot-form]');
    await page.waitForSelector('[data-test=bot-empty]');
    expect(await page.getAttribute('[data-test=status-engine]', 'data-state')).toBe('on');
    expect(await text('[data-test=status-live]')).toBe('0');
    // the strategy's declared params as a form, with their defaults
    await poll(() => page.locator('[data-test=bot-param-fast]').inputValue()).toBe('12');
    expect(await page.locator('[data-test=bot-param-slow]').inputValue()).toBe('26');
    // the symbol's suggestions are the broker's markets
    await poll(() => page.locator('#bot-symbols option').count()).toBeGreaterThan(0);

    await page.selectOption('[data-test=bot-timeframe]', '1m');
    await page.fill('[data-test=bot-param-fast]', '2');
    await page.fill('[data-test=bot-param-slow]', '5');
    const refused: [string, string, RegExp][] = [
      ['0', BTC, /budget must be more than 0/i],
      ['20000', BTC, /above the broker's free balance \(10000 USDT\)/],
      ['1000', 'NOPE/USDT', /has no market NOPE\/USDT/],
    ];
    for (const [budget, symbol, message] of refused) {
      await page.fill('[data-test=bot-budget]', budget);
      await page.fill('[data-test=bot-symbol]', symbol);
      await page.click('[data-test=bot-activate]');
      await poll(() => text('[data-test=bot-form-error]')).toMatch(message);
    }
    expect(await ws.call('bot.list')).toEqual([]);
    expect(await page.locator('[data-test^=bot-activation-]').count()).toBe(0);

    await page.fill('[data-test=bot-symbol]', BTC);
    await page.fill('[data-test=bot-budget]', '1000');
    await page.click('[data-test=bot-activate]');
    // a live broker and no backtest or paper run yet: the road to live is red; the user overrides it
    await poll(() => text('[data-test=bot-form-error]')).toMatch(/road to live is not complete/);
    expect(await ws.call('bot.list')).toEqual([]);
    await page.click('[data-test=bot-activate-override]');
    await poll(() => text('[data-test=bot-form-notice]')).toMatch(/EMA cross v1 is running on BTC\/USDT 1m/);
    // the confirmation is worded when shown: a language switch made afterwards (here from another connection) rewords it
    const { language } = await ws.call<{ language: string | null }>('settings.get');
    await ws.call('settings.update', { language: 'fr' });
    await poll(() => text('[data-test=bot-form-notice]')).toMatch(/^EMA cross v1 tourne sur BTC\/USDT 1m/);
    await ws.call('settings.update', { language });
    await poll(() => text('[data-test=bot-form-notice]')).toMatch(/^EMA cross v1 is running on BTC\/USDT 1m/);
    const list = await ws.call<Activation[]>('bot.list');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'running', params: { fast: 2, slow: 5, stopLoss: 0.05 }, budget: '1000', timeframe: '1m', symbol: BTC });
    id = list[0]!.id;
    expect(await page.getAttribute(card(), 'data-state')).toBe('running');
    expect(await page.locator('[data-test=bot-form-error]').count()).toBe(0);
    await poll(() => text('[data-test=status-live]')).toBe('1');
    // the chart shows the stored candles (two hours backfilled)
    await poll(() => page.getAttribute(card('[data-test=bot-chart]'), 'data-candles').then(Number)).toBeGreaterThan(60);
  });

  it('live signals: decisions with their reasons, a trade, the open position with its stop-loss, the chart following', async () => {
    const chartCandles = Number(await page.getAttribute(card('[data-test=bot-chart]'), 'data-candles'));
    const first = await minute();
    // the decision appears on the page with its reason
    const d0 = (await decisions(1))[0]!;
    expect(Date.parse(d0.candleTime)).toBe(first);
    await poll(() => text(card('[data-test=bot-decisions] li:first-child'))).toContain(d0.reason);
    // the chart took the new candle live
    await poll(() => page.getAttribute(card('[data-test=bot-chart]'), 'data-candles').then(Number)).toBe(chartCandles + 1);

    // a round trip on signals, then a position open again
    await until(async () => (await trades()).length > 0, 120);
    await until(async () => (await get()).position !== null, 120);
    const [a, t] = [await get(), await trades()];
    await poll(() => page.locator(card('[data-test=bot-trades] tbody tr')).count()).toBe(t.length);
    expect(await page.getAttribute(card('[data-test=bot-trades] tbody tr:first-child'), 'data-reason')).toBe(t[0]!.exitReason);
    await poll(() => text(card('[data-test=bot-pnl]'))).toBe(`${new Decimal(a.realisedPnl).toDecimalPlaces(8).toFixed()} USDT`);
    await poll(() => text(card('[data-test=bot-entry]'))).toBe(a.position!.entryPrice!);
    expect(await text(card('[data-test=bot-sl]'))).toBe(a.position!.stopLoss!);
    expect(await text(card('[data-test=bot-tp]'))).toBe('none');
    // the stop-loss rests at the exchange (native, the default), placed after the open fill
    await poll(() => text(card('[data-test=bot-protection]'))).toBe('native order at the exchange');
    expect((await get()).position!.protection).toBe('native');
    expect(ex.orders(KEY).filter((o) => o.status === 'NEW').map((o) => o.type)).toEqual(['STOP_LOSS']);
    expect(await text(card('[data-test=bot-unrealised]'))).toMatch(/^-?\d+(\.\d+)? USDT$/);
    // decisions that acted are listed; the order went to the exchange
    const acted = (await decisions(1000)).filter((d) => d.action !== 'none');
    expect(acted.length).toBeGreaterThanOrEqual(3);
    expect(acted.filter((d) => !(d.status === 'done' && d.orderIds.length === 1))).toEqual([]);
    // entries and exits as markers, entry and stop-loss as price lines
    await poll(() => page.getAttribute(card('[data-test=bot-chart]'), 'data-markers').then(Number)).toBeGreaterThanOrEqual(3);
    expect(await page.getAttribute(card('[data-test=bot-chart]'), 'data-lines')).toBe('entry,SL');
    await page.screenshot({ path: join(SHOTS, 'bot-position.png'), fullPage: true });
  });

  it('Sell closes the position at market; the activation keeps running', async () => {
    const before = (await trades()).length;
    await page.click(card('[data-test=bot-sell]'));
    await poll(() => text(card('[data-test=bot-position]'))).toBe('No open position.');
    const t = await trades();
    expect(t).toHaveLength(before + 1);
    expect(t[0]!.exitReason).toBe('sell');
    await poll(() => page.getAttribute(card('[data-test=bot-trades] tbody tr:first-child'), 'data-reason')).toBe('sell');
    const a = await get();
    expect(a).toMatchObject({ state: 'running', position: null });
    await poll(() => text(card('[data-test=bot-pnl]'))).toBe(`${new Decimal(a.realisedPnl).toDecimalPlaces(8).toFixed()} USDT`);
    expect(await page.getAttribute(card('[data-test=bot-chart]'), 'data-lines')).toBe('');
    expect(await page.locator(card('[data-test=bot-action-error]')).count()).toBe(0);
  });

  it('Suspend: no decision on the next signal; Resume: decisions again', async () => {
    await page.click(card('[data-test=bot-suspend]'));
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('suspended');
    expect(await text(card('[data-test=bot-reason]'))).toBe('suspended by the user');
    await poll(() => text('[data-test=status-live]')).toBe('0');
    const count = (await decisions(1000)).length;
    const skipped = await minute(false);
    expect((await decisions(1000)).length).toBe(count);
    expect((await decisions(5)).some((d) => Date.parse(d.candleTime) === skipped)).toBe(false);

    await page.click(card('[data-test=bot-resume]'));
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('running');
    await poll(() => text('[data-test=status-live]')).toBe('1');
    expect(await page.locator(card('[data-test=bot-reason]')).count()).toBe(0);
    await minute();
    expect((await decisions(1000)).length).toBe(count + 1);
  });

  it('the engine switch in the header: off, the page says protection keeps working and decisions say "engine off"; on again', async () => {
    await page.click('[data-test=status-engine]');
    await poll(() => page.getAttribute('[data-test=status-engine]', 'data-state')).toBe('off');
    expect(await ws.call('engine.get')).toMatchObject({ running: false });
    await poll(() => text('[data-test=bot-engine-note]')).toMatch(/Stop-loss and take-profit protection keeps working/);
    expect(await page.getAttribute('[data-test=bot-engine]', 'data-state')).toBe('off');
    const open = await minute();
    const d = (await decisions(1))[0]!;
    expect(d).toMatchObject({ action: 'none', reason: 'engine off' });
    expect(Date.parse(d.candleTime)).toBe(open);
    await poll(() => text(card('[data-test=bot-decisions] li:first-child'))).toContain('engine off');
    await page.screenshot({ path: join(SHOTS, 'bot-engine-off.png'), fullPage: true });

    await page.click('[data-test=status-engine]');
    await poll(() => page.getAttribute('[data-test=status-engine]', 'data-state')).toBe('on');
    expect(await page.locator('[data-test=bot-engine-note]').count()).toBe(0);
    expect(await ws.call('engine.get')).toMatchObject({ running: true });
  });

  it('in French: the state reason, the decisions and the road to live are worded from the core\'s keys', async () => {
    await ws.call('settings.update', { language: 'fr' });
    await poll(() => page.getAttribute('html', 'lang')).toBe('fr');
    const ds = await decisions(5);
    expect(ds.find((d) => d.reason === 'engine off')).toMatchObject({ reasonKey: 'coreBot.decision.engineOff' });
    await poll(() => text(card('[data-test=bot-decisions]'))).toContain('moteur arrêté');
    // each decision shown as the French catalogue words its key and params (the decision rule's too)
    const shown = await text(card('[data-test=bot-decisions]'));
    for (const d of ds) {
      expect(d.reasonKey).toEqual(expect.any(String));
      expect(shown).toContain(translate('fr', d.reasonKey!, d.reasonParams as Params));
    }
    expect(shown).not.toContain('engine off');
    // the road to live's steps (a live activation started with the override)
    await poll(() => text(card('[data-test=road-step-backtest]'))).toContain('Aucun backtest terminé de la version 1 sur BTC/USDT 1m');
    // a state reason
    await page.click(card('[data-test=bot-suspend]'));
    await poll(() => text(card('[data-test=bot-reason]'))).toBe("suspendue par l'utilisateur");
    await page.screenshot({ path: join(SHOTS, 'bot-fr.png'), fullPage: true });
    await page.click(card('[data-test=bot-resume]'));
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('running');
    await ws.call('settings.update', { language: null });
    await poll(() => page.getAttribute('html', 'lang')).toBe('en');
  });

  it('Stop with a position open asks close or keep; close sells it and stops; Delete removes the activation', async () => {
    await until(async () => (await get()).position !== null, 120);
    await poll(() => page.locator(card('[data-test=bot-sell]')).count()).toBe(1);
    const before = (await trades()).length;
    await page.click(card('[data-test=bot-stop]'));
    await page.waitForSelector('[data-test=bot-stop-confirm]');
    // cancel changes nothing
    await page.click('[data-test=bot-stop-cancel]');
    expect(await page.locator('[data-test=bot-stop-confirm]').count()).toBe(0);
    expect((await get()).state).toBe('running');

    await page.click(card('[data-test=bot-stop]'));
    await page.click('[data-test=bot-stop-close]');
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('stopped');
    const a = await get();
    expect(a.position).toBeNull();
    const t = await trades();
    expect(t).toHaveLength(before + 1);
    expect(t[0]!.exitReason).toBe('stop');
    await poll(() => text(card('[data-test=bot-reason]'))).toBe(a.reason!);
    await poll(() => text('[data-test=status-live]')).toBe('0');

    await page.click(card('[data-test=bot-delete]'));
    await page.click('[data-test=bot-delete-yes]');
    await page.waitForSelector('[data-test=bot-empty]');
    expect(await ws.call('bot.list')).toEqual([]);
  });

  it('Stop with a position open, keep: the activation stops and the coins stay on the account (no order)', async () => {
    await page.click('[data-test=bot-activate]');
    await page.click('[data-test=bot-activate-override]');
    await poll(async () => (await ws.call<Activation[]>('bot.list')).length).toBe(1);
    id = (await ws.call<Activation[]>('bot.list'))[0]!.id;
    await page.waitForSelector(card());
    await until(async () => (await get()).position !== null, 120);
    const position = (await get()).position!;
    await poll(() => text(card('[data-test=bot-entry]'))).toBe(position.entryPrice!);
    await poll(async () => (await get()).position?.protection).toBe('native'); // its stop-loss rests at the exchange
    const orders = ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
    await page.click(card('[data-test=bot-stop]'));
    await page.click('[data-test=bot-stop-keep]');
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('stopped');
    expect(await text(card('[data-test=bot-reason]'))).toMatch(/left on the account/);
    expect(await trades()).toEqual([]);
    expect(ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length).toBe(orders);
    // nothing left at the exchange that the app no longer follows: the resting stop-loss was cancelled
    expect(ex.orders(KEY).filter((o) => o.status === 'NEW')).toEqual([]);
    expect(await text(card('[data-test=bot-protection]'))).toBe('none: the activation is stopped');
    // the stopped activation can no longer be sold from the page
    expect(await page.locator(card('[data-test=bot-sell]')).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'bot-stopped-keep.png'), fullPage: true });
  });

  it('a strategy that throws at a signal: the activation goes to error with its message, shown verbatim; Resume and Delete are offered', async () => {
    const code = `import { Strategy } from 'aristobot';\nexport default class Boom extends Strategy {\n  static warmup = 1;\n  shouldLong(): boolean {\n    if (this.close.length > 0) throw new Error('boom at the close');\n    return false;\n  }\n  shouldShort() {\n    return false;\n  }\n}\n`;
    const strategyId = (await ws.call<{ id: string }>('strategies.create', { name: 'Boom', code })).id;
    const brokerId = (await ws.call<{ id: string }[]>('brokers.list'))[0]!.id;
    id = (await ws.call<Activation>('bot.create', { strategyId, brokerId, symbol: BTC, timeframe: '1m', budget: '100', override: true })).id;
    // created elsewhere (here: the API): the page learns it from bot.updated
    await page.waitForSelector(card());
    await minute();
    // the decision is journaled with its error, then the activation is put in error
    await poll(async () => (await get()).state).toBe('error');
    const a = await get();
    expect(a.reason).toMatch(/boom at the close/);
    await poll(() => page.getAttribute(card(), 'data-state')).toBe('error');
    expect(await text(card('[data-test=bot-reason]'))).toBe(a.reason!);
    const d = (await decisions(1))[0]!;
    expect(d).toMatchObject({ status: 'error', action: 'error' });
    await poll(() => text(card('[data-test=bot-decisions] li:first-child'))).toContain(d.error!);
    expect(await page.locator(card('[data-test=bot-resume]')).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'bot-error.png'), fullPage: true });
    await page.click(card('[data-test=bot-delete]'));
    await page.click('[data-test=bot-delete-yes]');
    await poll(() => page.locator(card()).count()).toBe(0);
    expect((await ws.call<Activation[]>('bot.list')).map((x) => x.id)).not.toContain(id);
  });
});
