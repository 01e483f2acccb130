import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JournalBatcher } from '../electron/webhooks/batch';
import type { NewRequest, RequestRow } from '../electron/webhooks/store';
import { createTestDb, type TestDb } from './support/db';

/**
 * The webhook journal's group commit on the bundled PostgreSQL: a burst of receipts goes in few
 * transactions (one multi-row INSERT each), every caller gets its own row, the same dedupe key twice
 * in one batch journals once, a receipt PostgreSQL refuses fails alone (the batch is redone piece by
 * piece), and status changes of one batch go in one UPDATE, applied in order when one request appears
 * twice.
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
