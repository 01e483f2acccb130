import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodOutput } from '../shared/contract';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * The bot's API through the real transport and core (WebSocket → dispatch → BotEngine): bad input
 * refused with invalid_input and nothing created, the activation's lifecycle buttons, the engine
 * switch and its event. (Trading on signals: test/bot.test.ts.)
 */

type Activation = MethodOutput<'bot.get'>;
const KEY = 'BotApiTestKey00000000000000000000000000000000000000000000000001';
const SECRET = 'BotApiTestSecret0000000000000000000000000000000000000000000001';

let sim: ExchangeSim;
let t: TestHost;
let c: WsClient;
let brokerId: string;
let strategyId: string;

beforeAll(async () => {
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '5000' } }] });
  process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
  // the heartbeat's market list (exchangeInfo) from the simulator (read from process.env); the heartbeat itself is off
  process.env.ARISTOBOT_BINANCE_REST_URL = sim.url;
  t = await startTestHost();
  c = await t.client();
  await c.call('profiles.create', { name: 'Bot', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Bot', password: 'pw-12345' });
  await c.call('events.subscribe', { events: ['bot.updated', 'engine.changed'] });
  brokerId = (await c.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
  strategyId = (await c.call<{ id: string }>('strategies.create', { name: 'EMA', template: 'ema-cross' })).id;
}, 60_000);
afterAll(async () => {
  c?.close();
  await t?.close();
  await sim?.close();
  delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
  delete process.env.ARISTOBOT_BINANCE_REST_URL;
});

const err = (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string }) => ({ code: e.code, message: e.message }));

describe('bot API', () => {
  it('refuses bad input with invalid_input and creates nothing', async () => {
    // a live broker without a road to live: the explicit override (paper trading's gate, test/gate.test.ts)
    const ok = { strategyId, brokerId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100', override: true };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a timeframe the heartbeat does not build', { timeframe: '1d' }, /timeframe/],
      ['budget 0', { budget: '0' }, /more than 0/],
      ['negative budget', { budget: '-5' }, /more than 0/],
      ['budget not a decimal string', { budget: 100 }, /budget/],
      ['budget above the free balance', { budget: '5000.01' }, /free balance/],
      ['end before start', { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, /end must be after the start/],
      ['unknown symbol for the broker', { symbol: 'NOPE/USDT' }, /no market NOPE\/USDT/],
      ['unknown strategy', { strategyId: '00000000-0000-4000-8000-000000000000' }, /./],
      ['an unknown field', { extra: 1 }, /extra|Unrecognized/i],
    ];
    for (const [name, change, msg] of cases) {
      expect(await err(c.call('bot.create', { ...ok, ...change })), name).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(msg) });
    }
    expect(await c.call('bot.list')).toEqual([]);
  });

  it('create → suspend → resume → stop → delete, with bot.updated events', async () => {
    const a = await c.call<Activation>('bot.create', { strategyId, brokerId, symbol: 'BTC/USDT', timeframe: '5m', budget: '250.5', params: { fast: 5 }, to: '2031-01-01T00:00:00Z', override: true });
    expect(a).toMatchObject({ state: 'running', strategyName: 'EMA', version: 1, params: { fast: 5 }, budget: '250.5', symbol: 'BTC/USDT', timeframe: '5m', to: '2031-01-01T00:00:00.000Z', position: null });
    // the symbol is on the heartbeat's watch list
    expect((await c.call<{ symbol: string }[]>('heartbeat.symbols.list')).map((s) => s.symbol)).toContain('BTC/USDT');
    expect(await c.call<Activation>('bot.suspend', { id: a.id })).toMatchObject({ state: 'suspended' });
    expect(await c.call<Activation>('bot.start', { id: a.id, override: true })).toMatchObject({ state: 'running', reason: null });
    expect(await err(c.call('bot.sell', { id: a.id }))).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/no open position/) });
    expect(await err(c.call('bot.delete', { id: a.id }))).toMatchObject({ code: 'conflict' });
    // adopting the exchange's state: only for a book with a position; bad input refused
    expect(await err(c.call('bot.reconcile.adopt', { id: a.id }))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/no open position/) });
    expect(await err(c.call('bot.reconcile.adopt', { id: 'nope' }))).toMatchObject({ code: 'invalid_input' });
    expect(await err(c.call('bot.reconcile.adopt', {}))).toMatchObject({ code: 'invalid_input' });
    expect(await c.call<Activation>('bot.update', { id: a.id, budget: '300' })).toMatchObject({ budget: '300' });
    expect(await err(c.call('bot.update', { id: a.id, budget: '0' }))).toMatchObject({ code: 'invalid_input' });
    expect(await c.call<Activation>('bot.stop', { id: a.id, closePosition: true })).toMatchObject({ state: 'stopped' });
    expect(await c.call('bot.decisions', { id: a.id })).toEqual([]);
    expect(await c.call('bot.trades', { id: a.id })).toEqual([]);
    expect(await c.call('bot.delete', { id: a.id })).toEqual({ ok: true });
    expect(await c.call('bot.list')).toEqual([]);
    const states = c.events.filter((e) => e.event === 'bot.updated').map((e) => (e.data as { state: string }).state);
    expect(states).toEqual(['running', 'suspended', 'running', 'running', 'stopped']);
  });

  it('engine.get / engine.set, with engine.changed', async () => {
    expect(await c.call('engine.get')).toMatchObject({ running: true, live: 0 });
    expect(await c.call('engine.set', { running: false })).toMatchObject({ running: false, note: expect.stringMatching(/Stop-loss and take-profit are still executed/) });
    expect(c.events.filter((e) => e.event === 'engine.changed').map((e) => (e.data as { running: boolean }).running)).toEqual([false]);
    expect(await c.call('engine.get')).toMatchObject({ running: false });
    await c.call('engine.set', { running: true });
  });
});
