import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../electron/log';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { WebhookService } from '../electron/webhooks/service';
import { translate, type Params } from '../shared/i18n';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Fuzzing the running listener (fast-check): thousands of generated bodies, content types, headers,
 * paths and methods, plus hostile connection behaviour. No crash, never a 5xx, no order without the
 * valid secret, and every request either journaled or counted.
 */

let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let svc: WebhookService;
let url: URL;
let secret: string;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000' } });
  sim.series.setPrice('BTC/USDT', '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  svc = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets: memorySecrets(), bus: tr.bus, log: silentLogger(), config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false } });
  await svc.start();
  url = new URL((await svc.startListener(tr.profileId)).url);
  secret = (await svc.secret(tr.profileId)).secret;
}, 60_000);
afterAll(async () => {
  agent.destroy();
  await svc?.stop();
  await tdb?.close();
  await sim?.close();
});

interface Req {
  method: string;
  path: string;
  contentType: string | null;
  headers: [string, string][];
  body: string;
}
function send(r: Req): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of r.headers) headers[k] = v;
    if (r.contentType !== null) headers['Content-Type'] = r.contentType;
    const withBody = r.method !== 'GET' && r.method !== 'HEAD';
    // Node's client sends a DELETE/OPTIONS body without framing unless told its length.
    if (withBody) headers['Content-Length'] = String(Buffer.byteLength(r.body));
    const req = httpRequest({ host: url.hostname, port: url.port, path: r.path, method: r.method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(withBody ? r.body : undefined);
  });
}

const journaled = async () => Number((await tdb.db.withProfile(tr.profileId, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_requests'))).rows[0]!.n);
const counted = () => {
  const c = svc.listener.counters;
  return c.notFound + c.methodNotAllowed + c.tooLarge + c.malformed + c.aborted;
};
const orderCount = async () => Number((await tdb.db.withProfile(tr.profileId, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM orders'))).rows[0]!.n);
const simPosts = () => sim.requestLog.filter((x) => x.method === 'POST' && x.path === '/api/v3/order').length;

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/).filter((h) => !['content-length', 'transfer-encoding', 'content-type', 'host', 'connection', 'expect', 'upgrade'].includes(h.toLowerCase()));
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant('{{close}}'), fc.constant('-1'), fc.constant('1e999'), fc.constant('0.001'), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
const action = fc.oneof(fc.constantFrom('PING', 'BuyMarket', 'SellMarket', 'BuyLimit', 'SellLimit', 'MAJ', 'buymarket'), fc.string());
/** Alert-shaped objects with arbitrary values, and the secret given as `secretGen`. */
const alertish = (secretGen: fc.Arbitrary<unknown>) =>
  fc
    .record(
      { secret: secretGen, action, id: anyValue, broker: fc.oneof(fc.constant('Sim'), fc.string()), symbol: fc.oneof(fc.constantFrom('BTCUSDT', 'BINANCE:BTCUSDT', 'BTCUSDT.P', 'ETH/USDT'), fc.string()), price: anyValue, amount: anyValue, percent: anyValue, sl: anyValue, tp: anyValue, expect: anyValue },
      { requiredKeys: ['action'] },
    )
    .map((o) => JSON.stringify(o));
const bodies = (secretGen: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: alertish(secretGen) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: alertish(secretGen).map((s) => s.slice(0, Math.max(1, s.length - 5))) },
    { weight: 1, arbitrary: fc.constantFrom(70_000, 65_537, 65_536, 60_000).map((n) => `{"action":"PING","pad":"${'x'.repeat(n)}"}`) },
  );
const requests = (secretGen: fc.Arbitrary<unknown>) =>
  fc.record({
    method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
    path: fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom('/', '/webhook', '/webhook/', '/webhook/short', '/webhook/AAAAAAAAAAAAAAAAAAAAAAAAAA', '/api', '/webhook/../x') },
      { weight: 1, arbitrary: fc.stringMatching(/^\/[A-Za-z0-9/_.%-]{0,40}$/) },
      { weight: 1, arbitrary: fc.stringMatching(/^\?[a-z=&0-9]{0,20}$/) },
    ),
    contentType: fc.oneof(fc.constantFrom('application/json', 'text/plain', 'text/plain; charset=utf-8', 'application/json; charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'), headerValue, fc.constant(null)),
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
    body: bodies(secretGen),
  });

/**
 * Every reason journaled since `since` (rows counted before it are skipped) has its key: its English
 * text is the key's English wording, and the French wording fills every parameter.
 */
async function reasonsByKey(skip: number): Promise<number> {
  const { rows } = await tdb.db.withProfile(tr.profileId, (c) =>
    c.query<{ reason: string | null; reason_key: string | null; reason_params: Params | null }>('SELECT reason, reason_key, reason_params FROM webhook_requests ORDER BY received_at, id OFFSET $1', [skip]),
  );
  const worded = rows.filter((r) => r.reason !== null);
  for (const r of worded) {
    expect(r.reason_key, r.reason!).toMatch(/^(coreWebhooks|errors)\./);
    expect(translate('en', r.reason_key!, r.reason_params ?? {})).toBe(r.reason);
    expect(translate('fr', r.reason_key!, r.reason_params ?? {})).not.toBe(r.reason_key);
  }
  return worded.length;
}

async function run(secretGen: fc.Arbitrary<unknown>, numRuns: number): Promise<{ sent: number; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(requests(secretGen), async (r) => {
      const path = r.path === '' ? url.pathname : r.path.startsWith('?') ? url.pathname + r.path : r.path;
      const status = await send({ ...r, path });
      sent++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status).toBeLessThan(500);
    }),
    { numRuns, seed: 20261130 + numRuns },
  );
  return { sent, statuses };
}

describe('fuzzing the listener', () => {
  it('without the valid secret: no 5xx, no order, every request journaled or counted', async () => {
    const [rows0, counted0, orders0, posts0] = [await journaled(), counted(), await orderCount(), simPosts()];
    const noSecret = fc.oneof(fc.constant(undefined), fc.string(), fc.constant(secret.slice(0, -1)), fc.constant(`${secret} `), fc.constant(secret.toUpperCase()), fc.integer(), fc.constant(null));
    const { sent, statuses } = await run(noSecret, Number(process.env.FUZZ_RUNS ?? 2000));
    await svc.idle();
    console.log('statuses without the secret:', Object.fromEntries(statuses), 'journaled', (await journaled()) - rows0, 'counters', svc.listener.counters, 'counted', counted() - counted0);
    expect(await orderCount()).toBe(orders0);
    expect(simPosts()).toBe(posts0);
    expect((await journaled()) - rows0 + (counted() - counted0)).toBe(sent);
    expect([...statuses.keys()].every((s) => [400, 401, 404, 405, 413, 415].includes(s))).toBe(true);
    expect(await reasonsByKey(rows0)).toBe((await journaled()) - rows0);
  }, 180_000);

  it('with the valid secret and arbitrary fields: no 5xx, every request journaled or counted', async () => {
    const [rows0, counted0] = [await journaled(), counted()];
    const { sent, statuses } = await run(fc.constant(secret), 1000);
    await svc.idle();
    console.log('statuses with the secret:', Object.fromEntries(statuses));
    expect((await journaled()) - rows0 + (counted() - counted0)).toBe(sent);
    // every order came from an authenticated request of this run
    const orphan = await tdb.db.withProfile(tr.profileId, (c) => c.query("SELECT o.id FROM orders o LEFT JOIN webhook_requests r ON r.id::text = o.source_ref WHERE r.id IS NULL OR r.status NOT IN ('processed', 'rejected', 'error')"));
    expect(orphan.rows).toEqual([]);
    expect(await reasonsByKey(rows0)).toBeGreaterThan(0);
  }, 180_000);

  it('survives hostile connections: garbage, slow senders, early disconnects, lies about the length', async () => {
    const raw = (chunks: string[], opts: { delayMs?: number; end?: 'close' | 'destroy' | 'wait' } = {}) =>
      new Promise<string>((resolve) => {
        const s = connect(Number(url.port), url.hostname);
        let got = '';
        s.on('data', (d) => (got += d.toString()));
        s.on('error', () => resolve(got));
        s.on('close', () => resolve(got));
        s.on('connect', async () => {
          for (const c of chunks) {
            s.write(c);
            if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
          }
          if (opts.end === 'destroy') s.destroy();
          else if (opts.end === 'close') s.end();
          else setTimeout(() => s.end(), 300);
        });
      });
    const p = url.pathname;
    const answers = await Promise.all([
      raw(['GARBAGE\r\n\r\n']),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"secret":`], { end: 'destroy' }),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{"a":1,"b":2}`]),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`]),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: 1\r\n', 'Content-Length: 2\r\n\r\n', '{}'], { delayMs: 150 }),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n`]),
      raw([`POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`]),
      raw([`POST ${p} HTTP/1.1\r\n`], { end: 'destroy' }),
    ]);
    for (const a of answers) if (a) expect(a).not.toMatch(/^HTTP\/1\.1 5/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 400/);
    expect(answers[5]).toMatch(/^HTTP\/1\.1 431/);
    // still serving
    expect(await send({ method: 'POST', path: url.pathname, contentType: 'application/json', headers: [], body: JSON.stringify({ secret, action: 'PING' }) })).toBe(200);
  }, 60_000);
});
