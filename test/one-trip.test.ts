/**
 * db/one-trip.ts: a statement's values inlined as SQL literals (one simple-protocol message for the
 * decisions journal's whole transaction) read back exactly as the same statement with bound
 * parameters reads them, on the bundled PostgreSQL — quotes, backslashes, `$n` inside values,
 * JSON, unicode, NULLs, arrays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineParams, sqlLiteral } from '../electron/db/one-trip';
import { createTestDb, type TestDb } from './support/db';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.close();
});

const NASTY = ["it's", 'back\\slash', 'a "quote"', "'); DROP TABLE profiles; --", '$1 and $2', 'line\nbreak\ttab', 'é ü 中文 🚀', '', ' E\'x\' ', '{,}', 'NULL'];

describe('inlineParams', () => {
  it('reads back exactly what bound parameters give', async () => {
    const text = 'SELECT $1::text AS s, $2::text[] AS a, $3::float8[] AS f, $4::jsonb[] AS j, $5::uuid[] AS u, $6::int AS i, $7::boolean AS b, $8::text AS n';
    const plan = JSON.stringify([{ leg: 'open', note: "it's \"quoted\" \\ $3", n: 1.5 }]);
    for (const s of NASTY) {
      const values = [s, NASTY, [1714982400000, 0.1, -2.5e-7], [plan, '{}', null], ['00000000-0000-0000-0000-000000000001', null], 42, true, null] as const;
      const bound = await t.db.query(text, values as unknown as unknown[]);
      const inlined = await t.db.query(inlineParams(text, values));
      expect(inlined.rows).toEqual(bound.rows);
      expect(inlined.rows[0]).toMatchObject({ s, a: NASTY, n: null, i: 42, b: true });
    }
    // several statements in one message, one result each
    const r = (await t.db.query(`SELECT 1 AS x; ${inlineParams('SELECT $1::text AS y', ["'; SELECT 2; --"])}`)) as unknown as { rows: unknown[] }[];
    expect(r.map((x) => x.rows)).toEqual([[{ x: 1 }], [{ y: "'; SELECT 2; --" }]]);
    // profiles untouched by the hostile text
    expect((await t.db.query('SELECT count(*)::int AS n FROM profiles')).rows[0]).toBeDefined();
  });

  it('refuses what it cannot write as a literal', () => {
    expect(() => inlineParams('SELECT $1, $2', ['a'])).toThrow(/no value for \$2/);
    expect(() => sqlLiteral(Number.NaN)).toThrow(/finite/);
    expect(() => sqlLiteral([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(["a'b"])).toBe(`'{"a''b"}'`);
  });
});
