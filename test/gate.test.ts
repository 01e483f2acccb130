import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate, type Params } from '../shared/i18n';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * Paper brokers through the API, and the road to live (bot.gate / bot.start / bot.create) through
 * the real transport and core: each step red then green with its evidence, the override recorded,
 * a new version starting the road again, bad paper input refused with nothing changed.
 */

const KEY = 'GateTestKey000000000000000000000000000000000000000000000000001';
const SECRET = 'GateTestSecret00000000000000000000000000000000000000000000001';
type Step = { key: string; ok: boolean; title: string; detail: string; titleKey: string; titleParams: Params; detailKey: string; detailParams: Params; evidence: Record<string, unknown> | null };
type Gate = { live: boolean; mode: string; open: boolean; red: string[]; steps: Step[]; override: { at: string; redSteps: string[] } | null; version: number };

let sim: ExchangeSim;
let t: TestHost;
let c: WsClient;
let liveId: string;
let paperId: string;
let emaId: string;
let profileId: string;

const err = (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string; details?: unknown }) => ({ code: e.code, message: e.message }));
const stepOf = (g: Gate, key: string) => g.steps.find((s) => s.key === key)!;
const states = (g: Gate) => Object.fromEntries(g.steps.map((s) => [s.key, s.ok]));
/** A step's detail as the renderer words it in French (and its English is the catalogue's). */
const french = (s: Step) => {
  expect(translate('en', s.detailKey, s.detailParams)).toBe(s.detail);
  expect(translate('en', s.titleKey, s.titleParams)).toBe(s.title);
  return translate('fr', s.detailKey, s.detailParams);
};

/** 600 synthetic 5m candles of BTC/USDT, imported as a data set (backtests run on it). */
function csv(): string {
  const rows = ['time,open,high,low,close,volume'];
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 600; i++) {
    const p = 60000 + 800 * Math.sin(i / 17) + 300 * Math.sin(i / 5);
    rows.push(`${new Date(t0 + i * 300_000).toISOString()},${p.toFixed(2)},${(p + 40).toFixed(2)},${(p - 40).toFixed(2)},${(p + 10).toFixed(2)},1`);
  }
  return rows.join('\n');
}
const backtest = async (strategyId: string) => {
  const { runId } = await c.call<{ runId: string }>('backtests.run', { strategyId, exchange: 'csv-btc', symbol: 'BTC/USDT', timeframe: '5m', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 3), initialBalance: '1000' });
  for (let i = 0; i < 300; i++) {
    const r = await c.call<{ status: string; error: string | null }>('backtests.get', { runId });
    if (r.status !== 'running') {
      expect(r).toMatchObject({ status: 'done' });
      return runId;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('backtest did not finish');
};
const decisionsAt = (activationId: string, hoursAgo: number[]) =>
  t.db.db.withProfile(profileId, async (q) => {
    for (const h of hoursAgo) {
      await q.query("INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, created_at) VALUES ($1, 'signal', now() - make_interval(hours => $2::int) - interval '1 second' * random(), 'none', 'test', 'done', now() - make_interval(hours => $2::int))", [activationId, h]);
    }
  });

beforeAll(async () => {
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '5000' } }] });
  process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
  process.env.ARISTOBOT_BINANCE_REST_URL = sim.url;
  t = await startTestHost();
  c = await t.client();
  await c.call('profiles.create', { name: 'Gate', password: 'pw-12345' });
  profileId = (await t.db.db.query<{ id: string }>("SELECT id FROM profiles WHERE name = 'Gate'")).rows[0]!.id;
  await c.call('profiles.login', { name: 'Gate', password: 'pw-12345' });
  liveId = (await c.call<{ id: string }>('brokers.create', { name: 'Live', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
  emaId = (await c.call<{ id: string }>('strategies.create', { name: 'EMA', template: 'ema-cross' })).id;
  await c.call('candles.import', { exchange: 'csv-btc', symbol: 'BTC/USDT', timeframe: '5m', csv: csv() });
}, 90_000);
afterAll(async () => {
  c?.close();
  await t?.close();
  await sim?.close();
  delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
  delete process.env.ARISTOBOT_BINANCE_REST_URL;
});

describe('paper brokers through the API', () => {
  it('bad balances, keys, testnet and an exchange without public market data: invalid_input, nothing created', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ balances: { USDT: '-1' } }, /negative/],
      [{ balances: { USDT: 'ten' } }, /not a number/],
      [{ balances: { USDT: 10 } }, /balances/],
      [{ exchange: 'cryptomus' }, /does not publish/],
      [{ credentials: { apiKey: 'x' } }, /no keys/],
      [{ testnet: true }, /no testnet/],
      [{ balances: undefined }, /starting balances/],
      [{ slippage: '-0.1' }, /slippage/],
    ];
    for (const [change, msg] of cases) {
      const input = { name: 'P', exchange: 'binance', paper: true, balances: { USDT: '1000' }, ...change };
      expect(await err(c.call('brokers.create', input)), JSON.stringify(change)).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(msg) });
    }
    expect((await c.call<{ id: string }[]>('brokers.list')).map((b) => b.id)).toEqual([liveId]);
  });

  it('a paper broker: PAPER, manual orders fill on live prices, reset', async () => {
    const b = await c.call<{ id: string; paper: boolean; testnet: boolean; paperSlippage: string }>('brokers.create', { name: 'Paper', exchange: 'binance', paper: true, balances: { USDT: '10000' } });
    expect(b).toMatchObject({ paper: true, testnet: false, paperSlippage: '0' });
    paperId = b.id;
    sim.series.setPrice('BTC/USDT', '60000');
    const o = await c.call<{ status: string; mode: string; averagePrice: string; fee: { cost: string; currency: string } }>('orders.place', { brokerId: paperId, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.01' });
    expect(o).toMatchObject({ status: 'filled', mode: 'paper', averagePrice: '60000', fee: { cost: '0.00001', currency: 'BTC' } });
    const tested = await c.call<{ balances: { asset: string; total: string }[] }>('brokers.testSaved', { id: paperId });
    expect(tested.balances).toEqual([expect.objectContaining({ asset: 'BTC', total: '0.00999' }), expect.objectContaining({ asset: 'USDT', total: '9400' })]);
    expect(await err(c.call('brokers.paper.reset', { id: paperId, balances: { USDT: '-3' } }))).toMatchObject({ code: 'invalid_input' });
    expect((await c.call<{ balances: { asset: string; total: string }[] }>('brokers.testSaved', { id: paperId })).balances.map((x) => x.total)).toEqual(['0.00999', '9400']);
    expect(await err(c.call('brokers.paper.reset', { id: liveId, balances: { USDT: '3' } }))).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/not a paper broker/) });
    const r = await c.call<{ balances: { asset: string; total: string }[] }>('brokers.paper.reset', { id: paperId, balances: { USDT: '5000' } });
    expect(r.balances).toEqual([{ asset: 'USDT', free: '5000', used: '0', total: '5000' }]);
  });
});

describe('the road to live', () => {
  it('each step red then green, with its evidence; a live start needs all four or the recorded override', async () => {
    const ok = { strategyId: emaId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' };
    // live, nothing done yet: refused naming the red steps, nothing created
    const closed = await err(c.call('bot.create', { ...ok, brokerId: liveId }));
    expect(closed).toMatchObject({ code: 'gate_closed', message: expect.stringMatching(/② backtest, ③ lookahead check, ④ paper run are red/) });
    // the red steps are named by key: worded in French with the rest of the sentence
    const wire = (await c.request('bot.create', { ...ok, brokerId: liveId })).error as unknown as { code: string; key: string; params: Params };
    expect(wire).toMatchObject({ code: 'gate_closed', key: 'errors.bot.activationTradesRealMoney', params: { count: 3 } });
    expect(translate('fr', wire.key, wire.params)).toMatch(/: ② backtest, ③ test d’anticipation, ④ essai fictif sont en rouge\./);
    expect(await c.call('bot.list')).toEqual([]);

    // on paper: no gate
    const paper = await c.call<{ id: string; state: string }>('bot.create', { ...ok, brokerId: paperId });
    expect(paper.state).toBe('running');
    let g = await c.call<Gate>('bot.gate', { id: paper.id });
    expect(g).toMatchObject({ live: false, mode: 'paper', open: false, red: ['backtest', 'lookahead', 'paper'], override: null });
    expect(stepOf(g, 'code')).toMatchObject({ ok: true, evidence: { versionId: expect.any(String) } });

    // ② and ③: a backtest of this version on BTC/USDT 5m, and its lookahead check
    const runId = await backtest(emaId);
    g = await c.call<Gate>('bot.gate', { id: paper.id });
    expect(states(g)).toEqual({ code: true, backtest: true, lookahead: true, paper: false });
    expect(stepOf(g, 'backtest').evidence).toMatchObject({ runId });
    expect(stepOf(g, 'lookahead')).toMatchObject({ evidence: { runId }, detail: expect.stringMatching(/No decision changes/), detailKey: 'coreBot.gate.lookaheadOk', detailParams: { checked: expect.any(Number) } });
    expect(french(stepOf(g, 'lookahead'))).toMatch(/^Aucune décision ne change quand on coupe le futur \(\d+ coupures vérifiées\)\.$/);
    expect(stepOf(g, 'backtest')).toMatchObject({ titleKey: 'coreBot.gate.steps.backtest', detailKey: 'coreBot.gate.backtestOk', detailParams: { symbol: 'BTC/USDT', timeframe: '5m', version: 1 } });
    expect(french(stepOf(g, 'backtest'))).toMatch(/^Backtest de la version 1 sur BTC\/USDT 5m \(2026-01-01 → 2026-01-0\d\)\.$/);
    expect(translate('fr', stepOf(g, 'paper').titleKey)).toBe('④ essai fictif');

    // ④: the paper activation's decisions span 2 h, then 25 h
    await decisionsAt(paper.id, [2, 0]);
    g = await c.call<Gate>('bot.gate', { id: paper.id });
    expect(stepOf(g, 'paper')).toMatchObject({ ok: false, detail: expect.stringMatching(/has run 2\.0 h of the 24 h/), detailKey: 'coreBot.gate.paperShort', detailParams: { symbol: 'BTC/USDT', hours: '2.0', need: 24 } });
    expect(french(stepOf(g, 'paper'))).toBe('Activation fictive sur BTC/USDT : 2,0 h sur les 24 h requises.');
    // the override: a live activation started with ④ red, recorded with it
    const live = await c.call<{ id: string; state: string }>('bot.create', { ...ok, brokerId: liveId, override: true });
    expect(live.state).toBe('running');
    g = await c.call<Gate>('bot.gate', { id: live.id });
    expect(g).toMatchObject({ live: true, mode: 'live', open: false, red: ['paper'], override: { redSteps: ['paper'] } });
    // Resume: the override confirmed for this activation at this version holds (not asked again)
    await c.call('bot.suspend', { id: live.id });
    expect(await c.call<{ state: string }>('bot.start', { id: live.id })).toMatchObject({ state: 'running' });
    await c.call('bot.suspend', { id: live.id });
    // another live activation of the same version is a new start: the gate is asked again
    expect(await err(c.call('bot.create', { ...ok, brokerId: liveId }))).toMatchObject({ code: 'gate_closed', message: expect.stringMatching(/④ paper run is red/) });

    await decisionsAt(paper.id, [25]);
    g = await c.call<Gate>('bot.gate', { id: live.id });
    expect(g).toMatchObject({ open: true, red: [] });
    expect(stepOf(g, 'paper').evidence).toMatchObject({ activationId: paper.id, hours: expect.any(Number) });
    expect((stepOf(g, 'paper').evidence!.hours as number) > 24.9).toBe(true);
    expect(await c.call<{ state: string }>('bot.start', { id: live.id })).toMatchObject({ state: 'running' });
    await c.call('bot.stop', { id: live.id, closePosition: false });
  });

  it('a paper run with an error does not count', async () => {
    const s = await c.call<{ id: string }>('strategies.create', { name: 'EMA err', template: 'ema-cross' });
    const a = await c.call<{ id: string }>('bot.create', { strategyId: s.id, brokerId: paperId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' });
    await decisionsAt(a.id, [30, 0]);
    expect(stepOf(await c.call<Gate>('bot.gate', { id: a.id }), 'paper').ok).toBe(true);
    await t.db.db.withProfile(profileId, (q) => q.query("UPDATE bot_decisions SET status = 'error', error = 'boom' WHERE activation_id = $1 AND created_at < now() - interval '29 hours'", [a.id]));
    expect(stepOf(await c.call<Gate>('bot.gate', { id: a.id }), 'paper')).toMatchObject({ ok: false, detail: expect.stringMatching(/hit an error/) });
    await c.call('bot.stop', { id: a.id, closePosition: false });
  });

  it('a strategy that reads the future: ③ red; a new version starts the road again; a version that does not load is refused', async () => {
    const code = `import { Strategy } from 'aristobot';
export default class Peek extends Strategy {
  static warmup = 1;
  shouldLong() { return this.close[this.i + 1] > this.close[this.i]; }
  shouldShort() { return false; }
  shouldExit() { return this.close[this.i + 1] < this.close[this.i]; }
}
`;
    const peek = await c.call<{ id: string }>('strategies.create', { name: 'Peek', code });
    await backtest(peek.id);
    const a = await c.call<{ id: string }>('bot.create', { strategyId: peek.id, brokerId: paperId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' });
    const g = await c.call<Gate>('bot.gate', { id: a.id });
    expect(stepOf(g, 'backtest').ok).toBe(true);
    expect(stepOf(g, 'lookahead')).toMatchObject({ ok: false, detail: expect.stringMatching(/reads candles it could not know/), detailKey: 'coreBot.gate.lookaheadFailedAt', detailParams: { count: expect.any(Number) } });
    expect(french(stepOf(g, 'lookahead'))).toMatch(/changen?t? quand on coupe le futur : la stratégie lit des bougies qu'elle ne pouvait pas connaître \(la première le .+ avec le futur, .+ sans\)\.$/);
    await c.call('bot.stop', { id: a.id, closePosition: false });

    // EMA version 2: everything done for version 1 no longer counts
    await c.call('strategies.update', { id: emaId, code: (await c.call<{ code: string }>('strategies.get', { id: emaId })).code + '\n// v2\n' });
    const e = await err(c.call('bot.create', { strategyId: emaId, brokerId: liveId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' }));
    expect(e).toMatchObject({ code: 'gate_closed', message: expect.stringMatching(/② backtest, ③ lookahead check, ④ paper run are red/) });
    // version 1 is still green
    expect(await c.call<{ version: number }>('bot.create', { strategyId: emaId, version: 1, brokerId: liveId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' })).toMatchObject({ version: 1 });

    // a version whose code no longer loads in the kernel (written under the app's feet): refused as bad
    // input before the gate is asked (the road's ① is the same check, for an existing activation)
    await t.db.db.withProfile(profileId, (q) =>
      q.query("INSERT INTO strategy_versions (strategy_id, version, code, js, params, warmup) SELECT strategy_id, 9, code, 'throw new Error(\"broken\")', params, warmup FROM strategy_versions WHERE strategy_id = $1 AND version = 1", [emaId]),
    );
    const activations = (await c.call<unknown[]>('bot.list')).length;
    const broken = await err(c.call('bot.create', { strategyId: emaId, version: 9, brokerId: liveId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' }));
    expect(broken).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/version 9\) does not load: Error: broken/) });
    expect((await c.call<unknown[]>('bot.list')).length).toBe(activations);
  });

  it('an activation whose strategy version is gone: the gate answers invalid_input naming strategyId, with the key', async () => {
    const s = await c.call<{ id: string }>('strategies.create', { name: 'Gone', template: 'ema-cross' });
    const a = await c.call<{ id: string }>('bot.create', { strategyId: s.id, brokerId: paperId, symbol: 'BTC/USDT', timeframe: '5m', budget: '100' });
    await c.call('bot.stop', { id: a.id, closePosition: false });
    await t.db.db.withProfile(profileId, (q) => q.query('DELETE FROM strategy_versions WHERE strategy_id = $1', [s.id]));
    const e = await c.call('bot.gate', { id: a.id }).then(
      () => null,
      (x: Error & { code?: string; details?: { issues: { path: string; message: string; key: string; params: Params }[] } }) => ({ code: x.code, message: x.message, details: x.details }),
    );
    expect(e).toMatchObject({ code: 'invalid_input', details: { issues: [{ path: 'strategyId', key: expect.stringMatching(/^errors\./) }] } });
    const issue = e!.details!.issues[0]!;
    expect(issue.message).toBe(e!.message);
    expect(translate('en', issue.key, issue.params)).toBe(issue.message);
    expect(translate('fr', issue.key, issue.params)).not.toBe(issue.message);
    // nothing changed: the activation is still there, stopped
    expect(await c.call('bot.get', { id: a.id })).toMatchObject({ state: 'stopped' });
  });
});
