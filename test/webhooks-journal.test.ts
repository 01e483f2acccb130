import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../electron/events';
import type { Broker } from '../electron/exchanges/brokers';
import { silentLogger } from '../electron/log';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { JournalBatcher } from '../electron/webhooks/batch';
import { WebhookService, type WebhookServiceOptions } from '../electron/webhooks/service';
import type { NewRequest, RequestRow } from '../electron/webhooks/store';
import { asOwner, createTestDb, type TestDb } from './support/db';

/**
 * The webhook journal's group commit on the bundled PostgreSQL: a burst of receipts goes in few
 * transactions (one multi-row INSERT each), every caller gets its own row, the same dedupe key twice
 * in one batch journals once, a receipt PostgreSQL refuses fails alone (the batch is redone piece by
 * piece), and status changes of one batch go in one UPDATE, applied in order when one request appears
 * twice. Receipts (`receipt()`, what the listener uses) go in ONE round trip per batch (values inlined
 * as literals): hostile strings come back intact, the same id twice in one batch is one request and one
 * duplicate, a row PostgreSQL refuses fails alone, and through the real listener a batch mixing good
 * alerts, bad input, a duplicate and a row the database refuses answers each one as it should, with
 * nothing lost or doubled.
 */

let tdb: TestDb;
let profileId: string;
let journal: JournalBatcher;

beforeAll(async () => {
  tdb = await createTestDb();
  profileId = (await tdb.db.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('journal', 'x') RETURNING id")).rows[0]!.id;
  journal = new JournalBatcher(tdb.db);
}, 60_000);
afterAll(async () => {
  await tdb?.close();
});

const receipt = (alertId: string, o: Partial<NewRequest> = {}): NewRequest => ({
  senderIp: '127.0.0.1', contentType: 'text/plain', alertId, dedupeKey: alertId, action: 'BuyMarket', symbol: 'BTCUSDT', market: null, brokerId: null, brokerName: 'Sim',
  sender: null, payload: { id: alertId, action: 'BuyMarket', note: 'quote " and \\ backslash, {braces}, ümlaut' }, raw: null, httpStatus: 202, status: 'received', reason: null, ...o,
});
const rows = async (): Promise<RequestRow[]> => (await tdb.db.withProfile(profileId, (c) => c.query<RequestRow>('SELECT * FROM webhook_requests'))).rows;

describe('webhook journal group commit', () => {
  it('a burst of receipts: each caller gets its own committed row, in few transactions', async () => {
    const before = { ...journal.counters };
    const n = 300;
    const got = await Promise.all(Array.from({ length: n }, (_, i) => journal.insert(profileId, receipt(`burst-${i}`))));
    const stored = await rows();
    expect(stored.filter((r) => r.alert_id?.startsWith('burst-'))).toHaveLength(n);
    got.forEach((r, i) => {
      expect(r).not.toBeNull();
      const s = stored.find((x) => x.id === r!.id)!;
      expect([s.alert_id, r!.alert_id, s.status, s.http_status]).toEqual([`burst-${i}`, `burst-${i}`, 'received', 202]);
      expect(s.payload).toEqual(r!.payload);
      expect(s.received_at.getTime()).toBe(r!.received_at.getTime());
    });
    expect(journal.counters.jobs - before.jobs).toBe(n);
    expect(journal.counters.batches - before.batches).toBeLessThan(n / 10);
  });

  it('the same dedupe key twice in one batch is journaled once; the other caller sees null and its follow-up runs', async () => {
    const follow: (string | null)[] = [];
    const [a, b, c] = await Promise.all(
      ['dup', 'dup', 'dup'].map((k) => journal.insert(profileId, receipt(k), async (cl, row) => {
        follow.push(row?.id ?? null);
        if (row) return row.id;
        const orig = (await cl.query<{ id: string }>('SELECT id FROM webhook_requests WHERE dedupe_key = $1', ['dup'])).rows[0]!;
        return `duplicate of ${orig.id}`;
      })),
    );
    const stored = (await rows()).filter((r) => r.dedupe_key === 'dup');
    expect(stored).toHaveLength(1);
    expect([a, b, c].filter((x) => x === stored[0]!.id)).toHaveLength(1);
    expect([a, b, c].filter((x) => x === `duplicate of ${stored[0]!.id}`)).toHaveLength(2);
    expect(follow.filter((x) => x === null)).toHaveLength(2);
  });

  it('a receipt PostgreSQL refuses fails alone; the rest of its batch is committed', async () => {
    const bad = receipt('bad-broker', { brokerId: '00000000-0000-4000-8000-000000000000' }); // no such broker: foreign key
    const results = await Promise.allSettled([journal.insert(profileId, receipt('ok-1')), journal.insert(profileId, bad), journal.insert(profileId, receipt('ok-2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = await rows();
    expect(stored.map((r) => r.alert_id)).toEqual(expect.arrayContaining(['ok-1', 'ok-2']));
    expect(stored.some((r) => r.alert_id === 'bad-broker')).toBe(false);
  });

  it('status changes of one batch in one UPDATE; the same request twice keeps the later change', async () => {
    const [x, y] = await Promise.all([journal.insert(profileId, receipt('st-1')), journal.insert(profileId, receipt('st-2'))]);
    await Promise.all([
      journal.status(profileId, { id: x!.id, status: 'processing' }),
      journal.status(profileId, { id: y!.id, status: 'rejected', reason: 'no such market' }),
      journal.status(profileId, { id: x!.id, status: 'processed', reason: 'Order filled.' }),
    ]);
    const stored = await rows();
    const sx = stored.find((r) => r.id === x!.id)!;
    const sy = stored.find((r) => r.id === y!.id)!;
    expect([sx.status, sx.reason, sx.processed_at !== null]).toEqual(['processed', 'Order filled.', true]);
    expect([sy.status, sy.reason, sy.processed_at !== null]).toEqual(['rejected', 'no such market', true]);
  });
});

const noNul = (x: string) => x.replaceAll('\u0000', '\uFFFD');
const dupOf = (key: string) => async (c: import('pg').PoolClient) => (await c.query<{ id: string }>('SELECT id FROM webhook_requests WHERE dedupe_key = $1', [key])).rows[0]!.id;

describe('receipts in one round trip per batch', () => {
  it('hostile strings survive the inlined literals exactly', async () => {
    const hostile = ["it's", 'back\\slash\\', 'quote " and \\"', "'); DROP TABLE webhook_requests; --", '$1 $2 $$ $tag$', '{a,b} {"x":1} NULL', 'tab\tnew\nline', 'émoji 🚀 中文', 'nul\u0000byte', 'E\'\\x41\''];
    const before = journal.counters.oneTrip;
    const got = await Promise.all(
      // the payload arrives scrubbed of NUL characters (scrubPayload); the text columns replace them here
      hostile.map((h, i) => journal.receipt(profileId, receipt(`hostile-${i}`, { payload: { id: `hostile-${i}`, note: noNul(h), nested: { list: [noNul(h), h.length] } }, symbol: h.slice(0, 60), brokerName: h, contentType: h, senderIp: '::1' }), async () => 'duplicate')),
    );
    expect(journal.counters.oneTrip).toBeGreaterThan(before);
    const stored = await rows();
    got.forEach((g, i) => {
      expect('row' in g).toBe(true);
      const row = (g as { row: RequestRow }).row;
      const s = stored.find((x) => x.id === row.id)!;
      const h = noNul(hostile[i]!);
      expect([s.symbol, s.broker_name, s.content_type, s.sender_ip]).toEqual([h.slice(0, 60), h, h, '::1']);
      expect(s.payload).toEqual({ id: `hostile-${i}`, note: h, nested: { list: [h, hostile[i]!.length] } });
      expect(s.payload).toEqual(row.payload);
      expect(s.received_at.getTime()).toBe(row.received_at.getTime());
    });
    expect(stored.filter((x) => x.alert_id?.startsWith('hostile-'))).toHaveLength(hostile.length);
  });

  it('the same id twice in ONE batch: exactly one journaled as the request, the other answered by its duplicate follow-up', async () => {
    const before = journal.counters.oneTrip;
    const got = await Promise.all(['twin', 'twin', 'single'].map((k) => journal.receipt(profileId, receipt(k), dupOf(k))));
    expect(journal.counters.oneTrip).toBeGreaterThan(before);
    const stored = (await rows()).filter((r) => r.dedupe_key === 'twin');
    expect(stored).toHaveLength(1);
    const requests = got.filter((g) => 'row' in g) as { row: RequestRow }[];
    const dups = got.filter((g) => 'duplicate' in g) as { duplicate: string }[];
    expect(requests.map((g) => g.row.alert_id).sort()).toEqual(['single', 'twin']);
    expect(dups).toEqual([{ duplicate: stored[0]!.id }]);
    // a later batch with the same id: a duplicate too, never a second row
    expect(await journal.receipt(profileId, receipt('twin'), dupOf('twin'))).toEqual({ duplicate: stored[0]!.id });
    expect((await rows()).filter((r) => r.dedupe_key === 'twin')).toHaveLength(1);
  });

  it('a row PostgreSQL refuses in the middle of a one-trip batch fails alone; the others are stored once', async () => {
    const bad = receipt('ot-bad', { brokerId: '00000000-0000-4000-8000-000000000000' }); // no such broker: foreign key
    const results = await Promise.allSettled([journal.receipt(profileId, receipt('ot-1'), dupOf('ot-1')), journal.receipt(profileId, bad, dupOf('ot-bad')), journal.receipt(profileId, receipt('ot-2'), dupOf('ot-2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = await rows();
    expect(stored.filter((r) => r.alert_id === 'ot-1')).toHaveLength(1);
    expect(stored.filter((r) => r.alert_id === 'ot-2')).toHaveLength(1);
    expect(stored.some((r) => r.alert_id === 'ot-bad')).toBe(false);
  });
});

describe('two batches under way at once (maxInFlight 2)', () => {
  it('receipts, duplicates and status changes of one request apply as with one: in call order, nothing lost or doubled', async () => {
    const two = new JournalBatcher(tdb.db, 500, 2);
    const keys = Array.from({ length: 120 }, (_, i) => `pipe-${i % 100}`); // 20 ids sent twice
    const got = await Promise.all(keys.map((k) => two.receipt(profileId, receipt(k), dupOf(k))));
    const stored = (await rows()).filter((r) => r.alert_id?.startsWith('pipe-'));
    expect(stored).toHaveLength(100);
    expect(got.filter((g) => 'duplicate' in g)).toHaveLength(20);
    // the first of two same ids is the request
    keys.forEach((k, i) => {
      if (i < 100) expect('row' in got[i]!).toBe(true);
      else expect(got[i]).toEqual({ duplicate: stored.find((r) => r.alert_id === k)!.id });
    });
    // changes of one request, not awaited one by one, across batches: the last one called stands
    const ids = got.slice(0, 30).map((g) => (g as { row: RequestRow }).row.id);
    await Promise.all(ids.flatMap((id) => [two.status(profileId, { id, status: 'processing' }), two.status(profileId, { id, status: 'rejected', reason: 'first' }), two.status(profileId, { id, status: 'processed', reason: 'last' })]));
    const after = (await rows()).filter((r) => ids.includes(r.id));
    expect(after.map((r) => `${r.status} ${r.reason}`)).toEqual(ids.map(() => 'processed last'));
  });
});

describe('a mixed batch through the real listener', () => {
  it('good alerts, bad input, the same id twice and a row the database refuses: each answered as it should, nothing lost or doubled', async () => {
    // A database error in the middle of a batch: a trigger (installed as the owner) refuses one alert id.
    await asOwner(tdb.ownerUrl, async (c) => {
      await c.query(`CREATE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN
        IF NEW.alert_id = 'db-refuses' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $f$`);
      await c.query('CREATE TRIGGER refuse_one BEFORE INSERT ON webhook_requests FOR EACH ROW EXECUTE FUNCTION test_refuse_one()');
    });
    const mixed = await tdb.db.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('mixed', 'x') RETURNING id");
    const pid = mixed.rows[0]!.id;
    const brokerId = await tdb.db.withProfile(pid, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, is_default, secret_ref) VALUES ('Sim', 'binance', true, 'sec_x') RETURNING id")).rows[0]!.id);
    const broker: Broker = { id: brokerId, name: 'Sim', exchange: 'binance', testnet: false, paper: false, paperSlippage: '0', isDefault: true, active: true, credentials: {}, createdAt: new Date().toISOString() };
    let release: () => void = () => undefined;
    const held = new Promise<never>((_, reject) => (release = () => reject(new Error('test over'))));
    held.catch(() => undefined);
    const brokers: WebhookServiceOptions['brokers'] = { list: async () => [broker], exchangeFor: () => held };
    const svc = new WebhookService({
      db: tdb.db, brokers, log: silentLogger(), secrets: memorySecrets(), bus: new EventBus(),
      gateway: { run: (_id, _what, fn) => fn() },
      orders: { place: () => held, ticker: () => held, sync: async () => undefined, protect: () => held, settleProtection: () => held, cancelProtection: () => held },
      config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false },
    });
    try {
      await svc.start();
      const { url } = await svc.startListener(pid);
      const { secret } = await svc.secret(pid);
      const alert = (id: string, o: Record<string, unknown> = {}) => JSON.stringify({ secret, id, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', action: 'BuyMarket', amount: '0.001', ...o });
      const sends: [string, string][] = [
        ...Array.from({ length: 12 }, (_, i): [string, string] => [`good-${i}`, alert(`good-${i}`)]),
        ['twin-a', alert('twin')],
        ['twin-b', alert('twin')],
        ['bad-json', '{"secret": "x", "id": '],
        ['wrong-secret', alert('wrong', { secret: 'nope' })],
        ['negative', alert('negative', { amount: '-1' })],
        ['db-refuses', alert('db-refuses')],
        ...Array.from({ length: 12 }, (_, i): [string, string] => [`late-${i}`, alert(`late-${i}`)]),
      ];
      const answers = await Promise.all(
        sends.map(async ([name, body]) => {
          const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
          return { name, status: r.status, body: (await r.json()) as { status: string; requestId?: string } };
        }),
      );
      const by = new Map(answers.map((a) => [a.name, a]));
      for (const a of answers.filter((x) => /^(good|late)-/.test(x.name))) expect([a.name, a.status, a.body.status]).toEqual([a.name, 202, 'received']);
      expect([by.get('twin-a')!.status, by.get('twin-b')!.status].sort()).toEqual([200, 202]);
      expect([by.get('twin-a')!.body.status, by.get('twin-b')!.body.status].sort()).toEqual(['duplicate', 'received']);
      expect(by.get('bad-json')!.status).toBe(400);
      expect(by.get('wrong-secret')!.status).toBe(401);
      expect(by.get('negative')!.status).toBe(422);
      // the database's own failure is ours, not the sender's: a 503 (TradingView re-sends), nothing stored
      expect(by.get('db-refuses')!.status).toBe(503);
      expect(answers.filter((a) => a.status >= 500).map((a) => a.name)).toEqual(['db-refuses']);

      const stored = (await tdb.db.withProfile(pid, (c) => c.query<RequestRow>('SELECT * FROM webhook_requests'))).rows;
      for (const i of Array.from({ length: 12 }, (_, k) => k)) {
        for (const id of [`good-${i}`, `late-${i}`]) {
          const mine = stored.filter((r) => r.alert_id === id);
          expect(mine.map((r) => [r.status === 'received' || r.status === 'processing', r.http_status, r.id === by.get(id)!.body.requestId])).toEqual([[true, 202, true]]);
        }
      }
      const twins = stored.filter((r) => r.alert_id === 'twin');
      expect(twins.map((r) => r.status === 'duplicate').sort()).toEqual([false, true]);
      expect(twins.filter((r) => r.dedupe_key === 'twin')).toHaveLength(1);
      expect(stored.filter((r) => r.status === 'rejected').map((r) => r.http_status).sort()).toEqual([400, 401, 422]);
      expect(stored.some((r) => r.alert_id === 'db-refuses')).toBe(false);
      expect(stored).toHaveLength(sends.length - 1);
    } finally {
      release();
      await svc.stop();
      await asOwner(tdb.ownerUrl, async (c) => {
        await c.query('DROP TRIGGER refuse_one ON webhook_requests');
        await c.query('DROP FUNCTION test_refuse_one()');
      });
    }
  });
});
