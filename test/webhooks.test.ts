import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../electron/events';
import { createLogger } from '../electron/log';
import { translate, type Params } from '../shared/i18n';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import type { OrderRow } from '../electron/trading/journal';
import { webhookClientOrderId } from '../electron/webhooks/payload';
import { webhookHandlers } from '../electron/webhooks/api';
import { WebhookService } from '../electron/webhooks/service';
import { WebhookRequest } from '../shared/contract/webhooks';
import type { RequestRow } from '../electron/webhooks/store';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Webhooks end to end through the real listener (node:http on a free port), the order service,
 * CCXT and the Binance simulator: each action, SL/TP watched on live prices and moved by MAJ, the
 * webhook book kept apart from coins bought by hand, idempotency, a slow exchange, missed PINGs,
 * every bad input named in the issue, and the tunnel's authtoken handling.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let svc: WebhookService;
let url: string;
let secret: string;
let clock = Date.now();
const events: BusEvent[] = [];
const secrets = memorySecrets();
const logFile = join(mkdtempSync(join(tmpdir(), 'aristobot-wh-')), 'wh.log');

beforeAll(async () => {
  // BTC/USDT without stop orders at this exchange: SL/TP are watched by the app here (the native path: webhooks-protection.test.ts).
  sim = await startExchangeSim({ markets: [{ symbol: BTC, orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'] }] });
  tdb = await createTestDb();
  const creds = generateCredentials();
  // 1 BTC bought by hand before any webhook: a webhook never sells it.
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds, { timeoutMs: 20_000 });
  tr.bus.on((e) => void events.push(e));
  svc = new WebhookService({
    db: tdb.db,
    brokers: tr.brokers,
    gateway: tr.gateway,
    orders: tr.service(),
    secrets,
    bus: tr.bus,
    log: createLogger({ file: logFile, level: 'debug' }),
    config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false },
    now: () => clock,
    forward: async () => {
      throw new Error('connect ENETUNREACH tunnel.ngrok.com');
    },
  });
  await svc.start();
  const st = await svc.startListener(tr.profileId);
  url = st.url;
  secret = (await svc.secret(tr.profileId)).secret;
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  await tdb?.close();
  await sim?.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
async function post(body: unknown, opts: { contentType?: string; to?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(opts.to ?? url, { method: 'POST', headers: { 'Content-Type': opts.contentType ?? 'text/plain; charset=utf-8', ...opts.headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const alert = (o: Record<string, unknown>) => ({ secret, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', ...o });
let seq = 0;
const nextId = (p = 'a') => `${p}-${++seq}-${Date.now()}`;
const requests = (): Promise<RequestRow[]> => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<RequestRow>('SELECT * FROM webhook_requests ORDER BY received_at')).rows);
const requestById = async (id: unknown) => (await requests()).find((r) => r.id === id)!;
const orderRows = (): Promise<OrderRow[]> => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const simOrderPosts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
const position = async () => (await svc.positions(tr.profileId)).find((p) => p.symbol === BTC);
/**
 * A journal sentence by key: its English (`reason`) is the key's English wording, and French words
 * it differently (a real translation, no key left in it, every parameter filled).
 */
function wordedInFrench(row: { reason: string | null; reason_key?: string | null; reason_params?: Params | null }, key: string): string {
  expect(row.reason_key).toBe(key);
  expect(row.reason).toBe(translate('en', key, row.reason_params ?? {}));
  const fr = translate('fr', key, row.reason_params ?? {});
  expect(fr).not.toBe(row.reason);
  // (TradingView's own placeholders, `{{close}}`, are data and stay)
  expect(fr).not.toMatch(/coreWebhooks\.|errors\.|(?<!\{)\{\w+\}(?!\})/);
  return fr;
}
const btcHeld = () => {
  const b = sim.balances(tr.credentials.apiKey).BTC!;
  return new Decimal(b.free).plus(b.locked);
};

describe('webhooks through the listener, the order service and the simulator', () => {
  it('BuyMarket: journaled, answered 202, then placed with the client order id derived from the alert id', async () => {
    const id = nextId();
    const a = await post(alert({ id, action: 'BuyMarket', amount: '0.01', price: '60000' }));
    expect(a).toMatchObject({ status: 202, body: { ok: true, status: 'received' } });
    await svc.idle();
    const r = await requestById(a.body.requestId);
    expect(r).toMatchObject({ status: 'processed', action: 'BuyMarket', market: BTC, symbol: 'BINANCE:BTCUSDT', alert_id: id, http_status: 202 });
    expect(r.reason).toMatch(/^Order filled, 0\.01 BTC filled\.$/);
    expect(wordedInFrench(r, 'coreWebhooks.result.orderFilled')).toBe('Ordre exécuté, quantité exécutée : 0,01 BTC.');
    expect(r.payload!.secret).toBe('•••');
    const order = (await orderRows()).find((o) => o.id === r.order_id)!;
    expect(order).toMatchObject({ source: 'webhook', source_ref: r.id, status: 'filled', side: 'buy', type: 'market', client_order_id: webhookClientOrderId(tr.profileId, id) });
    expect(sim.orders(tr.credentials.apiKey).filter((o) => o.clientOrderId === order.client_order_id)).toHaveLength(1);
    const p = await position();
    expect(p!.quantity.gt(0)).toBe(true);
    expect(p!.quantity.lte('0.01')).toBe(true);
    expect(events.some((e) => e.event === 'webhooks.received' && e.profileId === tr.profileId)).toBe(true);
  });

  it('SellMarket sizes from the webhook position, never from coins bought by hand', async () => {
    const held = (await position())!.quantity;
    const btcBefore = btcHeld();
    // more than the webhook bought: refused, even though the account holds 1 BTC more
    const big = await post(alert({ id: nextId(), action: 'SellMarket', amount: '0.5' }));
    expect(big.status).toBe(202);
    await svc.idle();
    const refused = await requestById(big.body.requestId);
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toMatch(/webhook position on BTC\/USDT holds .* cannot be sold by a webhook/);
    expect(wordedInFrench(refused, 'coreWebhooks.refused.overPosition')).toMatch(/^La position webhook sur BTC\/USDT détient .* un webhook ne peut pas vendre 0,5/);
    expect(refused.order_id).toBeNull();

    const a = await post(alert({ id: nextId(), action: 'SellMarket', percent: 100 }));
    await svc.idle();
    const r = await requestById(a.body.requestId);
    expect(r.status).toBe('processed');
    const order = (await orderRows()).find((o) => o.id === r.order_id)!;
    expect(order.amount!.lte(held)).toBe(true);
    expect(order.status).toBe('filled');
    // the hand-bought coin is still there
    expect(btcHeld().gte(btcBefore.minus(held))).toBe(true);
    expect(btcHeld().gte(1)).toBe(true);
    const p = await position();
    expect(p!.quantity.lt(held)).toBe(true);

    // nothing left in the webhook book: a sell is refused
    const again = await post(alert({ id: nextId(), action: 'SellMarket', percent: 100 }));
    await svc.idle();
    const last = await requestById(again.body.requestId);
    if ((await position())!.quantity.isZero()) expect(last).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/is empty/) });
  });

  it('BuyLimit rests, fills when the price crosses (synced by the watcher), and SellLimit sells from the book', async () => {
    const a = await post(alert({ id: nextId(), action: 'BuyLimit', amount: '0.02', price: '59000' }));
    await svc.idle();
    const r = await requestById(a.body.requestId);
    const order = (await orderRows()).find((o) => o.id === r.order_id)!;
    expect(order).toMatchObject({ status: 'open', type: 'limit', side: 'buy' });
    const before = (await position())!.quantity;
    sim.series.setPrice(BTC, '58900');
    await svc.tick();
    await svc.idle();
    expect((await orderRows()).find((o) => o.id === order.id)!.status).toBe('filled');
    const after = (await position())!.quantity;
    expect(after.minus(before).gt('0.019')).toBe(true);

    const s = await post(alert({ id: nextId(), action: 'SellLimit', percent: 50, price: '59500' }));
    await svc.idle();
    const sr = await requestById(s.body.requestId);
    expect(sr.status).toBe('processed');
    const sell = (await orderRows()).find((o) => o.id === sr.order_id)!;
    expect(sell).toMatchObject({ side: 'sell', type: 'limit', status: 'open' });
    expect(sell.amount!.lte(after.div(2))).toBe(true);
    sim.series.setPrice(BTC, '59600');
    await svc.tick();
    await svc.idle();
    expect((await orderRows()).find((o) => o.id === sell.id)!.status).toBe('filled');
    expect((await position())!.quantity.lt(after)).toBe(true);
    sim.series.setPrice(BTC, '60000');
  });

  it('SL/TP: set by the buy, moved by MAJ, watched on live prices and executed at market', async () => {
    const a = await post(alert({ id: nextId(), action: 'BuyMarket', amount: '0.01', sl: '55000', tp: '70000' }));
    await svc.idle();
    expect((await requestById(a.body.requestId)).status).toBe('processed');
    let p = (await position())!;
    expect([p.stop_loss?.toFixed(), p.take_profit?.toFixed(), p.protection]).toEqual(['55000', '70000', 'watched']);
    expect(p.exit_reason).toMatch(/does not accept STOP_LOSS orders on BTC\/USDT/);
    // the order service's own words are a parameter; the request's note is worded by key around them
    expect([p.exit_reason_key, p.exit_reason_params]).toEqual(['errors.external', { reason: p.exit_reason }]);
    expect(wordedInFrench(await requestById(a.body.requestId), 'coreWebhooks.result.orderFilled')).toMatch(/Stop-loss \/ take-profit surveillés par l'application \(.*does not accept STOP_LOSS/);
    expect((await requestById(a.body.requestId)).protection).toBe('watched');

    const maj = await post(alert({ id: nextId(), action: 'MAJ', sl: '59000' }));
    expect(maj.status).toBe(202);
    await svc.idle();
    expect(await requestById(maj.body.requestId)).toMatchObject({ status: 'processed', reason: expect.stringMatching(/^Stop-loss 59000, take-profit 70000 \(watched by the app: /) });
    expect(wordedInFrench(await requestById(maj.body.requestId), 'coreWebhooks.result.moved')).toMatch(/^Stop-loss 59\u202f000, take-profit 70\u202f000 \(surveillés par l'application : /);
    p = (await position())!;
    expect([p.stop_loss?.toFixed(), p.take_profit?.toFixed()]).toEqual(['59000', '70000']);

    // MAJ that would cross the take-profit: refused, nothing moved
    const bad = await post(alert({ id: nextId(), action: 'MAJ', sl: '71000' }));
    await svc.idle();
    expect(await requestById(bad.body.requestId)).toMatchObject({ status: 'rejected' });
    expect(wordedInFrench(await requestById(bad.body.requestId), 'coreWebhooks.refused.slStaysBelowTp')).toBe('Le stop-loss (71\u202f000) doit rester inférieur au take-profit (70\u202f000).');
    expect((await position())!.stop_loss!.toFixed()).toBe('59000');

    // above the stop: nothing happens
    const posts = simOrderPosts();
    await svc.tick();
    expect(simOrderPosts()).toBe(posts);
    // the price falls through the stop-loss: sold at market, the position is flat, SL/TP cleared
    const qty = (await position())!.quantity;
    sim.series.setPrice(BTC, '58500');
    await svc.tick();
    await svc.idle();
    expect(simOrderPosts()).toBe(posts + 1);
    p = (await position())!;
    expect(p.quantity.toFixed()).toBe('0');
    expect([p.stop_loss, p.take_profit]).toEqual([null, null]);
    const exit = (await orderRows()).at(-1)!;
    expect(exit).toMatchObject({ side: 'sell', type: 'market', source: 'webhook', status: 'filled', source_ref: `position:${p.id}` });
    expect(exit.amount!.toFixed()).toBe(qty.toFixed());
    expect(p.exit_reason).toBe('Stop-loss hit at 58500: sold at market (order filled).');
    expect(p.exit_reason_key).toBe('coreWebhooks.exit.sold');
    expect(translate('fr', p.exit_reason_key!, p.exit_reason_params!)).toBe('Stop-loss atteint à 58\u202f500 : vendu au marché (ordre exécuté).');
    // a second pass places nothing more
    await svc.tick();
    expect(simOrderPosts()).toBe(posts + 1);
    sim.series.setPrice(BTC, '60000');
  });

  it('the same alert sent 4 times concurrently places exactly one order', async () => {
    const id = nextId('dup');
    const posts = simOrderPosts();
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(alert({ id, action: 'BuyMarket', amount: '0.001' }))));
    expect(answers.map((x) => x.status).sort()).toEqual([200, 200, 200, 202]);
    expect(answers.filter((x) => x.body.status === 'duplicate')).toHaveLength(3);
    await svc.idle();
    expect(simOrderPosts()).toBe(posts + 1);
    expect((await orderRows()).filter((o) => o.client_order_id === webhookClientOrderId(tr.profileId, id))).toHaveLength(1);
    const rows = (await requests()).filter((r) => r.alert_id === id);
    expect(rows.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'processed']);
    // and once more, later
    expect(await post(alert({ id, action: 'BuyMarket', amount: '0.001' }))).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    await svc.idle();
    expect(simOrderPosts()).toBe(posts + 1);
  });

  it('a request left unprocessed by a crash is processed at the next start without a second order', async () => {
    const id = nextId('crash');
    // The crash came after the order was sent: the journal has the order, the request says processing.
    const order = await tr.service().place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.001', source: 'webhook', clientOrderId: webhookClientOrderId(tr.profileId, id) });
    const payload = { secret: '•••', id, broker: 'Sim', symbol: 'BTCUSDT', action: 'BuyMarket', amount: '0.001' };
    await tdb.db.withProfile(tr.profileId, (c) =>
      c.query("INSERT INTO webhook_requests (alert_id, dedupe_key, action, symbol, broker_id, broker_name, payload, http_status, status) VALUES ($1, $1, 'BuyMarket', 'BTCUSDT', $2, 'Sim', $3, 202, 'processing')", [id, tr.brokerId, payload]),
    );
    const posts = simOrderPosts();
    const again = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets, bus: tr.bus, log: createLogger({ file: logFile }), config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false } });
    await again.start();
    await again.idle();
    await again.stop();
    const r = (await requests()).find((x) => x.alert_id === id)!;
    expect(r).toMatchObject({ status: 'processed', order_id: order.id });
    expect(simOrderPosts()).toBe(posts);
  });

  it('a slow exchange (10 s) does not delay the answer; the order is placed afterwards', async () => {
    sim.delayOrders(10_000);
    try {
      const id = nextId('slow');
      const t0 = performance.now();
      const a = await post(alert({ id, action: 'BuyMarket', amount: '0.001' }));
      const ms = performance.now() - t0;
      console.log(`answered in ${ms.toFixed(1)} ms while the exchange takes 10 s`);
      expect(a.status).toBe(202);
      // answered before the exchange had the order
      expect(sim.orders(tr.credentials.apiKey).some((o) => o.clientOrderId === webhookClientOrderId(tr.profileId, id))).toBe(false);
      expect(['received', 'processing']).toContain((await requestById(a.body.requestId)).status);
      await svc.idle();
      const r = await requestById(a.body.requestId);
      expect(r.status).toBe('processed');
      expect(sim.orders(tr.credentials.apiKey).filter((o) => o.clientOrderId === webhookClientOrderId(tr.profileId, id))).toHaveLength(1);
    } finally {
      sim.delayOrders(0);
    }
  }, 30_000);

  it('an exchange refusal is journaled with the exchange message', async () => {
    sim.failNext('/api/v3/order', { status: 400, code: -2010, msg: 'Account has insufficient balance for requested action.', method: 'POST' });
    const a = await post(alert({ id: nextId(), action: 'BuyMarket', amount: '0.001' }));
    await svc.idle();
    const r = await requestById(a.body.requestId);
    expect(r.status).toBe('rejected');
    expect(r.reason).toMatch(/insufficient balance/i);
    expect(r.order_id).not.toBeNull();
    // our sentence by key, the exchange's own words inside it as they are
    expect(r.reason_key).toMatch(/^errors\./);
    expect(wordedInFrench(r, r.reason_key!)).toContain('Account has insufficient balance for requested action.');
  });

  it('a missed PING raises the alert; the next PING clears it', async () => {
    const a = await post({ secret, action: 'PING', sender: 'btc-5m', expect: 5 });
    expect(a).toMatchObject({ status: 200, body: { status: 'processed' } });
    expect(wordedInFrench(await requestById(a.body.requestId), 'coreWebhooks.result.aliveExpect')).toBe("actif ; prochain PING attendu d'ici 5 min");
    await svc.tick();
    expect((await svc.senders(tr.profileId)).find((s) => s.name === 'btc-5m')).toMatchObject({ missed: false, expectMinutes: 5 });
    events.length = 0;
    clock += 6 * 60_000;
    await svc.tick();
    expect((await svc.senders(tr.profileId)).find((s) => s.name === 'btc-5m')).toMatchObject({ missed: true });
    expect(await svc.missedPings(tr.profileId)).toEqual(['btc-5m']);
    expect(events.some((e) => e.event === 'webhooks.updated' && (e.data as { kind: string }).kind === 'senders')).toBe(true);
    await post({ secret, action: 'PING', sender: 'btc-5m' });
    expect(await svc.missedPings(tr.profileId)).toEqual([]);
  });
});

describe('bad input gets a clear 4xx, is journaled as rejected (or counted), and places nothing', () => {
  // name, body, HTTP status, the English reason, its catalogue key and the French wording
  const cases: [string, unknown, number, RegExp, string, RegExp][] = [
    ['invalid JSON', '{"secret": "x", action: BuyMarket', 400, /not valid JSON/, 'coreWebhooks.refused.notJson', /^Le corps n'est pas un JSON valide \(.+\)\. Collez le modèle/],
    ['a JSON array', '[1,2]', 400, /JSON object/, 'coreWebhooks.refused.notObject', /^Le corps doit être un objet JSON, par exemple \{"secret": "…", "action": "PING"\}\.$/],
    ['missing secret', { action: 'BuyMarket', id: 'm1', symbol: 'BTCUSDT', amount: '1' }, 401, /Missing "secret"/, 'coreWebhooks.refused.missingSecret', /^« secret » manquant/],
    ['wrong secret', { secret: 'not-the-secret', action: 'BuyMarket', id: 'w1', symbol: 'BTCUSDT', amount: '1' }, 401, /Wrong secret/, 'coreWebhooks.refused.wrongSecret', /^Secret erroné/],
    ['unknown action', 'GOOD:{"action":"Explode","id":"u1","symbol":"BTCUSDT"}', 422, /Unknown action "Explode"/, 'coreWebhooks.refused.unknownAction', /^Action inconnue « Explode » : utilisez l'une de PING, BuyMarket/],
    ['unknown broker', 'GOOD:{"action":"BuyMarket","id":"u2","symbol":"BTCUSDT","broker":"Nope","amount":"0.001"}', 422, /Unknown broker "Nope"/, 'coreWebhooks.refused.unknownBroker', /^Broker inconnu « Nope »\. Brokers de ce profil : "Sim"\.$/],
    ['unknown symbol', 'GOOD:{"action":"BuyMarket","id":"u3","symbol":"BINANCE:NOPEUSDT","broker":"Sim","amount":"0.001"}', 422, /Unknown symbol "BINANCE:NOPEUSDT"/, 'coreWebhooks.refused.unknownSymbol', /^Symbole inconnu « BINANCE:NOPEUSDT » sur binance \(broker « Sim »\)\.$/],
    ['a limit without a price', 'GOOD:{"action":"BuyLimit","id":"u4","symbol":"BTCUSDT","amount":"0.001"}', 422, /needs a "price"/, 'coreWebhooks.refused.limitNeedsPrice', /^BuyLimit demande un « price », par exemple « \{\{close\}\} »\.$/],
    ['a non-numeric amount', 'GOOD:{"action":"BuyMarket","id":"u5","symbol":"BTCUSDT","amount":"{{strategy.order.contracts}}"}', 422, /"amount" must be a number/, 'coreWebhooks.refused.notNumber', /^« amount » doit être un nombre, reçu « \{\{strategy\.order\.contracts\}\} »/],
    ['a negative amount', 'GOOD:{"action":"BuyMarket","id":"u6","symbol":"BTCUSDT","amount":"-1"}', 422, /must not be negative/, 'coreWebhooks.refused.negative', /^« amount » ne doit pas être négatif \(reçu : -1\)\.$/],
    ['a negative price', 'GOOD:{"action":"BuyLimit","id":"u7","symbol":"BTCUSDT","amount":"1","price":-5}', 422, /must not be negative/, 'coreWebhooks.refused.negative', /^« price » ne doit pas être négatif/],
    ['percent over 100', 'GOOD:{"action":"SellMarket","id":"u8","symbol":"BTCUSDT","percent":150}', 422, /at most 100/, 'coreWebhooks.refused.percentMax', /ne doit pas dépasser 100/],
    ['no id', 'GOOD:{"action":"BuyMarket","symbol":"BTCUSDT","amount":"0.001"}', 422, /"id" is required/, 'coreWebhooks.refused.idRequired', /^« id » est obligatoire pour BuyMarket/],
    ['amount and percent', 'GOOD:{"action":"BuyMarket","id":"u9","symbol":"BTCUSDT","amount":"0.001","percent":5}', 422, /not both/, 'coreWebhooks.refused.amountAndPercent', /pas les deux/],
    ['an unsupported content type', 'CT:application/x-www-form-urlencoded', 415, /not accepted/, 'coreWebhooks.refused.contentType', /^Le type de contenu « application\/x-www-form-urlencoded » n'est pas accepté/],
  ];
  for (const [name, body, status, reason, key, french] of cases) {
    it(`${name} → ${status}`, async () => {
      const beforeRows = (await requests()).length;
      const posts = simOrderPosts();
      const ordersBefore = (await orderRows()).length;
      let a: Answer;
      if (typeof body === 'string' && body.startsWith('GOOD:')) a = await post(JSON.stringify({ secret, ...(JSON.parse(body.slice(5)) as object) }));
      else if (typeof body === 'string' && body.startsWith('CT:')) a = await post(alert({ id: 'ct', action: 'PING' }), { contentType: body.slice(3) });
      else a = await post(body as string);
      expect(a.status).toBe(status);
      expect(a.body.reason).toMatch(reason);
      await svc.idle();
      const rows = await requests();
      expect(rows.length).toBe(beforeRows + 1);
      expect(rows.at(-1)).toMatchObject({ status: 'rejected', http_status: status, order_id: null });
      expect(rows.at(-1)!.reason).toMatch(reason);
      // the journal keeps the same sentence by key: the page words it in French
      expect(wordedInFrench(rows.at(-1)!, key)).toMatch(french);
      // the HTTP answer (read by TradingView, a machine) stays English
      expect(a.body.reason).toBe(rows.at(-1)!.reason);
      expect(simOrderPosts()).toBe(posts);
      expect((await orderRows()).length).toBe(ordersBefore);
    });
  }

  it('the wrong secret is journaled without its value, and a secret never reaches the journal or the log', async () => {
    await post({ secret: 'attacker-guess-123456', action: 'BuyMarket', id: 'w2', symbol: 'BTCUSDT', amount: '1' });
    await post('{"secret": "raw-guess-98765", broken');
    const text = JSON.stringify(await requests());
    expect(text).not.toContain('attacker-guess-123456');
    expect(text).not.toContain('raw-guess-98765');
    expect(text).not.toContain(secret);
    expect(readFileSync(logFile, 'utf8')).not.toContain(secret);
  });

  it('an unknown token path → 404, a GET → 405, a body over 64 KB → 413: counted, nothing stored', async () => {
    const before = (await requests()).length;
    const c0 = { ...svc.listener.counters };
    const origin = new URL(url).origin;
    expect((await post(alert({ action: 'PING' }), { to: `${origin}/webhook/AAAAAAAAAAAAAAAAAAAAAAAA` })).status).toBe(404);
    expect((await post(alert({ action: 'PING' }), { to: `${origin}/other` })).status).toBe(404);
    expect((await fetch(url)).status).toBe(405);
    const huge = JSON.stringify({ ...alert({ action: 'PING' }), pad: 'x'.repeat(70 * 1024) });
    expect((await post(huge)).status).toBe(413);
    // the same without a Content-Length (chunked): cut off at 64 KB
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('y'.repeat(8 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
    expect((await requests()).length).toBe(before);
    expect(svc.listener.counters.notFound - c0.notFound).toBe(2);
    expect(svc.listener.counters.methodNotAllowed - c0.methodNotAllowed).toBe(1);
    expect(svc.listener.counters.tooLarge - c0.tooLarge).toBe(2);
  });

  it('restricted to TradingView: other callers 403 (journaled); X-Forwarded-For is not believed without the tunnel', async () => {
    await svc.setRestriction(tr.profileId, true);
    try {
      const a = await post({ secret, action: 'PING' }, { headers: { 'X-Forwarded-For': '52.89.214.238' } });
      expect(a.status).toBe(403);
      expect((await requests()).at(-1)).toMatchObject({ status: 'rejected', http_status: 403, sender_ip: '127.0.0.1' });
    } finally {
      await svc.setRestriction(tr.profileId, false);
    }
  });
});

describe('the journal by key over the API', () => {
  it('webhooks.list carries each reason with its key and parameters; a row journaled before keys keeps its English and no key', async () => {
    // a row as journaled before migration 0020: English only
    const old = await tdb.db.withProfile(tr.profileId, async (c) =>
      (await c.query<{ id: string }>("INSERT INTO webhook_requests (http_status, status, reason, action) VALUES (422, 'rejected', 'Unknown action \"Old\": an old English reason.', 'Old') RETURNING id")).rows[0]!.id,
    );
    const refused = await post(alert({ id: nextId(), action: 'BuyMarket', amount: '0.001', broker: 'Nowhere' }));
    expect(refused.status).toBe(422);
    const list = webhookHandlers(svc)['webhooks.list'] as unknown as (i: unknown, ctx: { profile: { id: string } }) => Promise<unknown[]>;
    const rows = (await list({ filters: { limit: 1000 } }, { profile: { id: tr.profileId } })).map((x) => WebhookRequest.parse(x));
    const mine = rows.find((x) => x.id === refused.body.requestId)!;
    expect(mine).toMatchObject({ reasonKey: 'coreWebhooks.refused.unknownBroker', reasonParams: { name: 'Nowhere', brokers: '"Sim"' } });
    expect(translate('fr', mine.reasonKey!, mine.reasonParams as Params)).toBe('Broker inconnu « Nowhere ». Brokers de ce profil : "Sim".');
    const before = rows.find((x) => x.id === old)!;
    expect(before).toMatchObject({ reason: 'Unknown action "Old": an old English reason.', reasonKey: null, reasonParams: null });
  });
});

describe('the listener on a port already taken', () => {
  it('refuses with the port named, by key, in French too', async () => {
    const taken = new URL(url).port;
    const other = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets, bus: tr.bus, log: createLogger({ file: logFile }), config: { host: '127.0.0.1', port: Number(taken), watchMs: 0, trustProxy: false } });
    try {
      const e = await other.startListener(tr.profileId).then(() => null, (x: unknown) => x as { code: string; message: string; key: string; params: Params });
      expect(e).toMatchObject({ code: 'unavailable', key: 'errors.webhooks.webhookListenerDidNot', params: { why: { key: 'coreWebhooks.listener.portInUse', params: { port: Number(taken) } } } });
      expect(e!.message).toBe(`The webhook listener did not start: port ${taken} is already in use (set ARISTOBOT_WEBHOOK_PORT to another port).`);
      expect(translate('fr', e!.key, e!.params)).toContain(`le port ${taken} est déjà utilisé (réglez ARISTOBOT_WEBHOOK_PORT sur un autre port)`);
      // the first listener is untouched
      expect((await post({ secret, action: 'PING' })).status).toBe(200);
    } finally {
      await other.stop();
    }
  });
});

describe('the tunnel', () => {
  it('without an authtoken: a clear error, and the listener keeps running', async () => {
    await expect(svc.tunnelStart(tr.profileId)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/No ngrok authtoken/),
      details: { issues: [{ path: 'authtoken', key: 'errors.webhooks.noAuthtoken', params: {} }] },
    });
    expect((await svc.state(tr.profileId)).running).toBe(true);
    expect((await svc.state(tr.profileId)).tunnel).toMatchObject({ error: expect.stringMatching(/No ngrok authtoken/), errorKey: 'errors.webhooks.noAuthtoken', errorParams: {} });
    expect((await post({ secret, action: 'PING' })).status).toBe(200);
  });

  it('the network unreachable: a clear error without the token, the token kept in the SecretStore only, the listener running', async () => {
    const token = 'Tok_2abcDEFghiJKLmnoPQRstuVWXyz_0123456789';
    const e = await svc.tunnelStart(tr.profileId, token).then(() => null, (x: unknown) => x as { code: string; message: string });
    expect(e).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/The tunnel did not start: connect ENETUNREACH .*the listener keeps running/) });
    expect(e!.message).not.toContain(token);
    const st = await svc.state(tr.profileId);
    expect(st).toMatchObject({ running: true, tunnel: { running: false, hasToken: true, publicUrl: null, error: e!.message, errorKey: 'errors.webhooks.tunnelDidNotStart' } });
    // ngrok's own words are a parameter; the sentence around them is ours, in French
    expect(translate('fr', st.tunnel.errorKey!, st.tunnel.errorParams!)).toMatch(/^Le tunnel n'a pas démarré : connect ENETUNREACH tunnel\.ngrok\.com\. Vérifiez le réseau/);
    expect(await secrets.store.get('webhooks.ngrok.authtoken')).toBe(token);
    const dump = await tdb.db.query<{ t: string }>(
      "SELECT string_agg(t::text, ' ') AS t FROM (SELECT to_jsonb(x)::text AS t FROM app_settings x UNION ALL SELECT token_hash FROM webhook_routes) q",
    );
    expect(dump.rows[0]!.t).not.toContain(token);
    expect(readFileSync(logFile, 'utf8')).not.toContain(token);
    expect((await post({ secret, action: 'PING' })).status).toBe(200);
  });

  it('the real @ngrok/ngrok with no way out: a clear error, the listener untouched', async () => {
    const real = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets, bus: tr.bus, log: createLogger({ file: logFile }), config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false }, tunnelTimeoutMs: 15_000 });
    await real.start();
    try {
      // remembered "on", this instance started its own listener too; without one the tunnel is refused
      expect(real.listener.running).toBe(true);
      await real.listener.stop();
      await expect(real.tunnelStart(tr.profileId)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/Start the listener first/) });
      await real.listener.start();
      const e = await real.tunnelStart(tr.profileId).then(() => null, (x: unknown) => x as { code: string; message: string });
      expect(e).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^The tunnel did not start: .+ the listener keeps running locally\.$/) });
      expect(e!.message).not.toContain('Tok_2abc');
      expect(real.listener.running).toBe(true);
      expect((await real.state(tr.profileId)).tunnel).toMatchObject({ running: false, error: e!.message });
    } finally {
      await real.listener.stop();
      await real.stop();
    }
  }, 30_000);

  it('through a tunnel: the public URL is shown and X-Forwarded-For names the caller', async () => {
    let closed = false;
    const tunneled = new WebhookService({
      db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets, bus: tr.bus, log: createLogger({ file: logFile }),
      config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false },
      forward: async ({ addr }) => ({ url: () => `https://abc.ngrok.app#${addr}`, close: async () => void (closed = true) }),
    });
    await svc.stopListener(tr.profileId);
    await tunneled.start();
    try {
      await tunneled.startListener(tr.profileId);
      const st = await tunneled.tunnelStart(tr.profileId);
      expect(st.tunnel.running).toBe(true);
      expect(st.publicWebhookUrl).toMatch(/^https:\/\/abc\.ngrok\.app#127\.0\.0\.1:\d+\/webhook\//);
      await tunneled.setRestriction(tr.profileId, true);
      const local = (await tunneled.state(tr.profileId)).url;
      const ok = await post({ secret, action: 'PING' }, { to: local, headers: { 'X-Forwarded-For': '10.0.0.1, 52.89.214.238' } });
      expect(ok.status).toBe(200);
      expect((await requests()).at(-1)).toMatchObject({ sender_ip: '52.89.214.238', status: 'processed' });
      expect((await post({ secret, action: 'PING' }, { to: local, headers: { 'X-Forwarded-For': '8.8.8.8' } })).status).toBe(403);
      await tunneled.setRestriction(tr.profileId, false);
      await tunneled.tunnelStop(tr.profileId);
      expect(closed).toBe(true);
    } finally {
      await tunneled.stopListener(tr.profileId);
      await tunneled.stop();
      await svc.startListener(tr.profileId);
      url = (await svc.state(tr.profileId)).url;
    }
  });
});
