import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ccxt from 'ccxt';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointExchangeAt } from '../exchanges/urls';
import { createTestDb, type TestDb } from '../../test/support/db';
import { startExchangeSim, type ExchangeSim } from '../../test/sim/exchange';
import { CandleCopy } from './candle-copy';
import { BacktestCandles } from './candles';
import { parseCandleCsv, parseTime } from './csv';
import type { Columns } from '../kernel/types';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const read = (f: string) => readFileSync(resolve(DATA, f), 'utf8');
const MIN = 60_000;

let t: TestDb;
let candles: BacktestCandles;
let sim: ExchangeSim;

beforeAll(async () => {
  t = await createTestDb();
  candles = new BacktestCandles(t.db);
  sim = await startExchangeSim();
});
afterAll(async () => {
  await sim.close();
  await t.close();
});

async function stored(exchange: string, symbol: string, tf: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3', [exchange, symbol, tf]);
  return rows[0]!.n;
}

describe('CSV import of the real series in shared/data/ohlcv', () => {
  it('GOOG daily (first column unnamed): every row, loaded back as exact float64 columns', async () => {
    const csv = read('GOOG.csv');
    const r = await candles.importCsv('csv-goog', 'GOOG/USD', '1d', csv);
    const lines = csv.trim().split('\n').slice(1);
    expect(r.rows).toBe(lines.length);
    expect(r.from).toBe(Date.UTC(2004, 7, 19));
    const c = await candles.load('csv-goog', 'GOOG/USD', '1d', r.from, r.to + 1);
    expect(c.close.length).toBe(lines.length);
    // every value as the file has it, parsed by JavaScript itself
    for (const [i, line] of lines.entries()) {
      const [d, o, h, l, cl, v] = line.split(',');
      expect(c.time[i]).toBe(Date.parse(`${d}T00:00:00Z`));
      expect([c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]]).toEqual([Number(o), Number(h), Number(l), Number(cl), Number(v)]);
    }
  });

  it('columns sized too small at first grow and give the same series', async () => {
    const one = await candles.load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    expect(one.time.length).toBe(2148);
    for (const guess of [1, 100, 2147]) {
      const grown = await new BacktestCandles(t.db, guess).load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
      for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) expect([...grown[k]]).toEqual([...one[k]]);
    }
  });

  it('a long series (250 000 1m candles) comes back whole and in order', { timeout: 180_000 }, async () => {
    const rows = Array.from({ length: 250_000 }, (_, i) => `${Date.UTC(2019, 0, 1) + i * MIN},1,2,0.5,${1 + (i % 1000) / 1000},1`);
    await candles.importCsv('csv-long', 'L/USD', '1m', rows.join('\n'));
    const c = await candles.load('csv-long', 'L/USD', '1m', 0, Date.UTC(2030, 0, 1));
    expect(c.time.length).toBe(250_000);
    for (let i = 0; i < c.time.length; i += 997) expect([c.time[i], c.close[i]]).toEqual([Date.UTC(2019, 0, 1) + i * MIN, 1 + (i % 1000) / 1000]);
    for (let i = 1; i < c.time.length; i++) if (c.time[i]! - c.time[i - 1]! !== MIN) throw new Error(`gap at ${i}`);
  });

  it('EURUSD hourly (date and time), BTCUSD monthly and bt2006 (a named Date column and an extra column)', async () => {
    const eur = await candles.importCsv('csv-fx', 'EUR/USD', '1h', read('EURUSD.csv'));
    expect(eur.rows).toBe(5000);
    expect(eur.from).toBe(Date.UTC(2017, 3, 19, 9));
    const btc = await candles.importCsv('csv-btc', 'BTC/USD', '1M', read('BTCUSD.csv'));
    expect(btc.rows).toBe(156);
    const bt = await candles.importCsv('csv-bt', 'IDX/EUR', '1d', read('bt2006.csv'));
    expect(bt.rows).toBe(255);
    const c = await candles.load('csv-bt', 'IDX/EUR', '1d', 0, Date.UTC(2030, 0, 1));
    expect(c.open[0]).toBe(3578.73);
    expect(c.close[0]).toBe(3604.33);
  });

  it('no header, epoch milliseconds, rows out of order: sorted', () => {
    const rows = parseCandleCsv(`${Date.UTC(2024, 0, 2)},2,3,1,2.5,10\n${Date.UTC(2024, 0, 1)},1,2,0.5,1.5,5\n`);
    expect(rows.map((r) => r.time)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)]);
    expect(rows[0]).toMatchObject({ open: '1', high: '2', low: '0.5', close: '1.5', volume: '5' });
  });

  it('bad rows are reported by line number and nothing is imported', async () => {
    const csv = ['Date,Open,High,Low,Close,Volume', '2024-01-01,1,2,0.5,1.5,5', '2024-01-02,1,x,0.5,1.5,5', '2024-02-31,1,2,0.5,1.5,5', '2024-01-04,1,2,0.5', '2024-01-05,3,2,0.5,1.5,5', '2024-01-01,1,2,0.5,1.5,5', '2024-01-07,1,2,0.5,1.5,5'].join('\n');
    const e = await candles.importCsv('csv-bad', 'X/Y', '1d', csv).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'invalid_input' });
    const lines = (e as { details: { lines: { line: number; message: string }[] } }).details.lines;
    expect(lines.map((l) => l.line)).toEqual([3, 4, 5, 6, 7]);
    expect(lines[0]!.message).toMatch(/high "x" is not a number/);
    expect(lines[4]!.message).toMatch(/already on line 2/);
    expect((e as Error).message).toMatch(/Line 3/);
    expect(await stored('csv-bad', 'X/Y', '1d')).toBe(0);
  });

  it('a failure while writing rolls back every row already written (one transaction)', async () => {
    // 6000 good rows (two statements), then a price numeric(…) cannot hold: the second statement fails
    const rows = Array.from({ length: 6000 }, (_, i) => `${Date.UTC(2020, 0, 1) + i * MIN},1,2,0.5,1.5,1`);
    rows.push(`${Date.UTC(2021, 0, 1)},1,1e200000,0.5,1.5,1`);
    await expect(candles.importCsv('csv-half', 'X/Y', '1m', rows.join('\n'))).rejects.toThrow();
    expect(await stored('csv-half', 'X/Y', '1m')).toBe(0);
  });

  it('times: ISO dates and date-times (UTC unless an offset is given), epoch ms; nonsense refused', () => {
    expect(parseTime('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTime('2024-03-01 10:30')).toBe(Date.UTC(2024, 2, 1, 10, 30));
    expect(parseTime('2024-03-01T10:30:00+02:00')).toBe(Date.UTC(2024, 2, 1, 8, 30));
    expect(parseTime('1709287800000')).toBe(1709287800000);
    expect(parseTime('01/03/2024')).toBeNaN();
    expect(parseTime('2024-13-01')).toBeNaN();
  });

  it('an empty file or one without price columns is refused', () => {
    expect(() => parseCandleCsv('\n\n')).toThrow(/empty/);
    expect(() => parseCandleCsv('a,b\n1,2\n')).toThrow(/expected the columns/);
  });
});

/** The stored rows as PostgreSQL itself writes them: exact decimal text, epoch ms, in time order. */
async function storedText(exchange: string, symbol: string, tf: string): Promise<{ t: string; o: string; h: string; l: string; c: string; v: string; f: number[] }[]> {
  const { rows } = await t.db.query<{ t: string; o: string; h: string; l: string; c: string; v: string; f: number[] }>(
    `SELECT (extract(epoch FROM open_time) * 1000)::bigint::text AS t, open::text AS o, high::text AS h, low::text AS l, close::text AS c, volume::text AS v,
            ARRAY[open::float8, high::float8, low::float8, close::float8, volume::float8] AS f
       FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 ORDER BY open_time`,
    [exchange, symbol, tf],
  );
  return rows;
}

describe('the loaded series is the stored one', () => {
  const FILES = [
    ['GOOG.csv', 'exact-goog', 'GOOG/USD', '1d'],
    ['EURUSD.csv', 'exact-fx', 'EUR/USD', '1h'],
    ['BTCUSD.csv', 'exact-btc', 'BTC/USD', '1M'],
    ['bt2006.csv', 'exact-bt', 'IDX/EUR', '1d'],
  ] as const;

  it('every real series in shared/data/ohlcv, with holes cut in it: the same times, order, gaps and values (Number() of each stored decimal, and PostgreSQL\'s own numeric::float8)', { timeout: 120_000 }, async () => {
    for (const [file, exchange, symbol, tf] of FILES) {
      await candles.importCsv(exchange, symbol, tf, read(file));
      // holes: every 7th candle of the first half removed, and a whole block
      const all = await storedText(exchange, symbol, tf);
      const cut = [...all.filter((_, i) => i < all.length / 2 && i % 7 === 3), ...all.slice(Math.floor(all.length * 0.7), Math.floor(all.length * 0.7) + 20)].map((r) => Number(r.t));
      await t.db.query(`DELETE FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND (extract(epoch FROM open_time) * 1000)::bigint = ANY($4::bigint[])`, [exchange, symbol, tf, cut]);
      const rows = await storedText(exchange, symbol, tf);
      expect(rows.length).toBe(all.length - cut.length);
      const c = await candles.load(exchange, symbol, tf, 0, Date.UTC(2030, 0, 1));
      expect(c.time.length).toBe(rows.length);
      for (const [i, r] of rows.entries()) {
        const got = [c.time[i], c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]];
        if (got[0] !== Number(r.t) || got[1] !== Number(r.o) || got[2] !== Number(r.h) || got[3] !== Number(r.l) || got[4] !== Number(r.c) || got[5] !== Number(r.v)) {
          expect({ file, i, got }).toEqual({ file, i, got: [r.t, r.o, r.h, r.l, r.c, r.v].map(Number) });
        }
        if (got.slice(1).some((x, k) => !Object.is(x, r.f[k]))) expect({ file, i, got: got.slice(1) }).toEqual({ file, i, got: r.f });
      }
      // a window inside: only its candles, the first and last as stored
      const [x, y] = [Math.floor(rows.length / 4), Math.floor(rows.length / 2)];
      const w = await candles.load(exchange, symbol, tf, Number(rows[x]!.t), Number(rows[y]!.t));
      expect(w.time.length).toBe(y - x);
      expect([w.time[0], w.time[y - x - 1], w.close[0]]).toEqual([Number(rows[x]!.t), Number(rows[y - 1]!.t), Number(rows[x]!.c)]);
    }
  });

  it('any decimal NUMERIC can hold comes back as the double nearest to it (property: random values, scales and signs)', { timeout: 120_000 }, async () => {
    const decimal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,24}$|^0$/), fc.stringMatching(/^[0-9]{0,30}$/), fc.integer({ min: -40, max: 40 }))
      .map(([neg, int, frac, shift]) => {
        // a decimal with up to 55 digits, shifted by up to 40 places either way
        const digits = `${int}${frac}`.replace(/^0+(?=\d)/, '');
        let point = int.length + shift;
        let d = digits;
        if (point <= 0) {
          d = '0'.repeat(1 - point) + d;
          point = 1;
        }
        if (point > d.length) d += '0'.repeat(point - d.length);
        const text = `${d.slice(0, point)}${point < d.length ? `.${d.slice(point)}` : ''}`.replace(/^0+(?=\d)/, '');
        return neg && /[1-9]/.test(text) ? `-${text}` : text;
      });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(decimal, decimal, decimal, decimal, decimal), { minLength: 1, maxLength: 40 }), async (values) => {
        await t.db.query("DELETE FROM candles WHERE exchange = 'prop'");
        await t.db.query(
          `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
           SELECT 'prop', 'P/Q', '1m', 'epoch'::timestamptz + (u.k * 60000) * interval '1 millisecond', u.o, u.h, u.l, u.c, u.v
             FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[]) AS u(k, o, h, l, c, v)`,
          [values.map((_, k) => k), ...[0, 1, 2, 3, 4].map((f) => values.map((v) => v[f]))],
        );
        const c = await candles.load('prop', 'P/Q', '1m', 0, Date.UTC(2030, 0, 1));
        expect(c.time.length).toBe(values.length);
        for (const [k, v] of values.entries()) {
          expect(c.time[k]).toBe(k * MIN);
          expect([c.open[k], c.high[k], c.low[k], c.close[k], c.volume[k]]).toEqual(v.map(Number));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the binary stream cut anywhere (rows split across chunks) parses to the same columns; a stream that is not one is refused', async () => {
    const chunks: Buffer[] = [];
    class Recording extends CandleCopy {
      override handleCopyData(msg: { chunk: Buffer }): void {
        chunks.push(Buffer.from(msg.chunk));
        super.handleCopyData(msg);
      }
    }
    const client = await t.db.pool.connect();
    const rec = new Recording("COPY (SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time) TO STDOUT (FORMAT binary)", 10, { rawSocket: false });
    try {
      void client.query(rec as never);
      await rec.done;
    } finally {
      client.release();
    }
    const whole = await rec.done;
    expect(whole.time.length).toBe(2148);
    const bytes = Buffer.concat(chunks);
    for (const size of [1, 7, 19, 1000]) {
      const cc = new CandleCopy('', 5);
      for (let p = 0; p < bytes.length; p += size) cc.handleCopyData({ chunk: bytes.subarray(p, p + size) });
      cc.handleReadyForQuery();
      const c = await cc.done;
      for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) expect([...c[k]]).toEqual([...whole[k]]);
    }
    const cut = new CandleCopy('', 5);
    cut.handleCopyData({ chunk: bytes.subarray(0, bytes.length - 2) }); // no trailer
    cut.handleReadyForQuery();
    await expect(cut.done).rejects.toThrow(/without its trailer/);
    const bad = new CandleCopy('', 5);
    bad.handleCopyData({ chunk: Buffer.from('open,high,low\n1,2,3\n1,2,3\n') });
    bad.handleReadyForQuery();
    await expect(bad.done).rejects.toThrow(/Not a binary COPY stream/);
  });

  /** The COPY data PostgreSQL sends for `sql`, one Buffer per CopyData message (read through pg's own path). */
  async function copyPayloads(sql: string): Promise<{ payloads: Buffer[]; columns: Columns }> {
    const payloads: Buffer[] = [];
    class Recording extends CandleCopy {
      override handleCopyData(msg: { chunk: Buffer }): void {
        payloads.push(Buffer.from(msg.chunk));
        super.handleCopyData(msg);
      }
    }
    const client = await t.db.pool.connect();
    const rec = new Recording(sql, 10, { rawSocket: false });
    try {
      void client.query(rec as never);
      return { payloads, columns: await rec.done };
    } finally {
      client.release();
    }
  }
  const message = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(5);
    head[0] = type.charCodeAt(0);
    head.writeInt32BE(4 + body.length, 1);
    return Buffer.concat([head, body]);
  };
  /** What the socket carries for a binary COPY of six columns: CopyOutResponse, the CopyData messages, CopyDone, CommandComplete, ReadyForQuery. */
  function wire(payloads: Buffer[], rows: number): { bytes: Buffer; forPg: Buffer } {
    const outResponse = message('H', Buffer.from([1, 0, 6, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]));
    const notice = message('N', Buffer.from('SNOTICE\0Mhello\0\0', 'latin1'));
    const tail = Buffer.concat([message('c', Buffer.alloc(0)), message('C', Buffer.from(`COPY ${rows}\0`)), message('Z', Buffer.from('I'))]);
    const data = payloads.map((p) => message('d', p));
    // a notice in the middle of the data (PostgreSQL may send one at any time)
    const mid = Math.floor(data.length / 2);
    return { bytes: Buffer.concat([outResponse, ...data.slice(0, mid), notice, ...data.slice(mid), tail]), forPg: Buffer.concat([outResponse, notice, tail]) };
  }
  /** A connection whose socket has one reader (pg's, here a recorder) and which pretends to send the query. */
  function fakeConnection() {
    const stream = new EventEmitter();
    const seen: Buffer[] = [];
    const pgReader = (b: Buffer) => seen.push(Buffer.from(b));
    stream.on('data', pgReader);
    return { connection: { stream, query: () => undefined } as never, stream, seen, pgReader };
  }
  const KEYS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

  it('read off the raw socket: the stream cut at every byte gives the same columns, pg gets every other message and its reader back', { timeout: 120_000 }, async () => {
    const { payloads, columns: whole } = await copyPayloads(
      "COPY (SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time LIMIT 40) TO STDOUT (FORMAT binary)",
    );
    expect(whole.time.length).toBe(40);
    const { bytes, forPg } = wire(payloads, 40);
    const cuts: number[][] = [[], [1], [3]];
    for (let k = 1; k < bytes.length; k++) cuts.push([k]);
    for (let k = 1; k < bytes.length; k += 7) cuts.push([k, Math.min(bytes.length - 1, k + 5)]);
    cuts.push(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)); // one byte at a time
    for (const at of cuts) {
      const { connection, stream, seen, pgReader } = fakeConnection();
      const cc = new CandleCopy('', 5);
      cc.submit(connection);
      expect(stream.listeners('data')).not.toContain(pgReader);
      let from = 0;
      for (const to of [...at, bytes.length]) {
        stream.emit('data', bytes.subarray(from, to));
        from = to;
      }
      // every byte that is not COPY data reached pg's reader, in order; the socket is pg's again
      expect(Buffer.concat(seen).equals(forPg)).toBe(true);
      expect(stream.listeners('data')).toEqual([pgReader]);
      cc.handleReadyForQuery();
      const c = await cc.done;
      for (const k of KEYS) if (!c[k].every((x, i) => Object.is(x, whole[k][i]))) expect({ at, k, got: [...c[k]] }).toEqual({ at, k, got: [...whole[k]] });
    }
  });

  it('read off the raw socket against PostgreSQL: the connection serves the next query; a NULL, a gap, an error mid-stream are each reported', async () => {
    const client = await t.db.pool.connect();
    const stream = (client as unknown as { connection: { stream: EventEmitter } }).connection.stream;
    let viaPg = 0; // CopyData messages that went through pg's own path (none: the rows are read off the socket)
    class Counting extends CandleCopy {
      override handleCopyData(msg: { chunk: Buffer }): void {
        viaPg++;
        super.handleCopyData(msg);
      }
    }
    const run = async (sql: string): Promise<Columns> => {
      const cc = new Counting(sql, 4);
      void client.query(cc as never);
      return cc.done;
    };
    try {
      const goog = await run("COPY (SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time) TO STDOUT (FORMAT binary)");
      expect(goog.time.length).toBe(2148);
      expect(viaPg).toBe(0);
      expect(stream.listeners('data')).toHaveLength(1);
      expect((await client.query<{ x: number }>('SELECT 41 + 1 AS x')).rows[0]!.x).toBe(42);
      // a gap in the series: the candles on either side, nothing invented between them
      const gap = await run(
        "COPY (SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = 'csv-goog' AND open_time NOT IN (SELECT open_time FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time OFFSET 5 LIMIT 3) ORDER BY open_time LIMIT 10) TO STDOUT (FORMAT binary)",
      );
      expect([...gap.time.subarray(4, 6)]).toEqual([goog.time[4], goog.time[8]]);
      expect([...gap.close]).toEqual([...goog.close.subarray(0, 5), ...goog.close.subarray(8, 13)]);
      // a NULL value: refused by name, the connection still usable
      await expect(run("COPY (SELECT open_time, open, high, NULL::numeric, close, volume FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time LIMIT 30) TO STDOUT (FORMAT binary)")).rejects.toThrow(
        /NULL value/,
      );
      expect((await client.query<{ x: number }>('SELECT 1 AS x')).rows[0]!.x).toBe(1);
      // PostgreSQL fails after 1500 rows were sent: its error, and the connection still usable
      await expect(
        run(
          "COPY (SELECT open_time, open, high, low, close / (1500 - row_number() OVER (ORDER BY open_time))::numeric, volume FROM candles WHERE exchange = 'csv-goog' ORDER BY open_time) TO STDOUT (FORMAT binary)",
        ),
      ).rejects.toThrow(/division by zero/);
      expect(stream.listeners('data')).toHaveLength(1);
      expect((await client.query<{ x: number }>('SELECT 2 AS x')).rows[0]!.x).toBe(2);
    } finally {
      client.release();
    }
  });

  it('recycled columns serve the next load of the same size, which writes every value anew', async () => {
    // a series without holes: the columns are sized exactly from the stored span (a series with
    // holes is copied into exact-sized columns, a size the next load does not ask for)
    const rows = Array.from({ length: 3000 }, (_, i) => `${Date.UTC(2021, 0, 1) + i * MIN},${100 + i},${101 + i},${99 + i},${100.5 + i},${i / 7}`);
    await candles.importCsv('csv-recycle', 'R/USD', '1m', rows.join('\n'));
    const load = (l: BacktestCandles) => l.load('csv-recycle', 'R/USD', '1m', 0, Date.UTC(2030, 0, 1));
    const loader = new BacktestCandles(t.db);
    const first = await load(loader);
    expect(first.close).toHaveLength(3000);
    const want = Object.fromEntries(KEYS.map((k) => [k, Float64Array.from(first[k])]));
    const buf = first.close.buffer;
    for (const k of KEYS) first[k].fill(-12345); // garbage where the next load's candles go
    loader.recycle(first);
    for (const k of KEYS) expect(first[k]).toHaveLength(0);
    loader.recycle(first); // twice: kept once
    const again = await load(loader);
    expect(again.close.buffer).toBe(buf);
    for (const k of KEYS) expect([...again[k]]).toEqual([...want[k]!]);
    // the buffer is out of the spare list while in use: a second load gets fresh memory
    const other = await load(loader);
    expect(other.close.buffer).not.toBe(buf);
    for (const k of KEYS) expect([...other[k]]).toEqual([...want[k]!]);
    // columns this loader did not return are left alone
    const foreign = await load(candles);
    loader.recycle(foreign);
    expect(foreign.close).toHaveLength(3000);
  });

  it('a large load, read in two halves over two connections, gives the columns of one COPY: a regular series, holes in the first half, more rows in the first half than its room; the reserve serves and stays', { timeout: 180_000 }, async () => {
    const T0 = Date.UTC(2018, 0, 1);
    // rows made by the server: offsets in minutes (g) from T0, decimals of every scale
    const seed = (exchange: string, where: string, n: number, minute = 'g') =>
      t.db.query(
        `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
         SELECT $1, 'S/USD', '1m', 'epoch'::timestamptz + ($2::bigint + ((${minute})::numeric * 60000)::bigint) * interval '1 millisecond',
                round((100 + (g % 1000) / 7.0)::numeric, 2), round((101 + (g % 997) / 3.0)::numeric, 4), round((99 - (g % 991) / 11.0)::numeric, 6),
                round((100 + (g % 983) / 13.0)::numeric, 8), round(((g % 97) / 7.0)::numeric, 10)
           FROM generate_series(0, $3::int - 1) g WHERE ${where}`,
        [exchange, T0, n],
      );
    await seed('split-regular', 'true', 240_000);
    await seed('split-holes', 'NOT (g BETWEEN 30000 AND 45999 OR g % 1000 = 7)', 240_000);
    // 1m candles whose first 80 000 are 30 s apart: the first half holds far more rows than half the span
    await seed('split-dense', 'true', 240_000, "CASE WHEN g < 80000 THEN g / 2.0 ELSE g - 40000 END");
    const single = new BacktestCandles(t.db, undefined, false);
    const split = new BacktestCandles(t.db);
    for (const ex of ['split-regular', 'split-holes', 'split-dense']) {
      const want = await single.load(ex, 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
      const got = await split.load(ex, 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
      expect(want.close.length).toBe(await stored(ex, 'S/USD', '1m'));
      expect(got.close.length).toBe(want.close.length);
      for (const k of KEYS) expect(Buffer.from(got[k].buffer, got[k].byteOffset, got[k].byteLength).equals(Buffer.from(want[k].buffer, want[k].byteOffset, want[k].byteLength))).toBe(true);
      for (let i = 1; i < got.time.length; i++) if (!(got.time[i]! > got.time[i - 1]!)) throw new Error(`${ex}: out of order at ${i}`);
      // a part of the range, cut inside a hole and inside the dense part
      const part = await split.load(ex, 'S/USD', '1m', T0 + 20_000 * MIN, T0 + 200_000 * MIN);
      const partOne = await single.load(ex, 'S/USD', '1m', T0 + 20_000 * MIN, T0 + 200_000 * MIN);
      for (const k of KEYS) expect([...part[k]]).toEqual([...partOne[k]]);
    }
    // the reserve (BacktestService.start) serves a load up to 4× smaller, comes back with recycle, and stays
    const app = new BacktestCandles(t.db);
    app.reserve(300_000);
    expect(app.reservedBytes).toBe(300_000 * 48);
    const want = await single.load('split-holes', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
    const a = await app.load('split-holes', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
    const reserved = a.close.buffer;
    expect(reserved.byteLength).toBe(300_000 * 48);
    for (const k of KEYS) expect([...a[k]]).toEqual([...want[k]]);
    // while the reserve is in use, another load gets its own memory
    const b = await app.load('split-regular', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
    expect(b.close.buffer).not.toBe(reserved);
    app.recycle(a);
    const c = await app.load('split-regular', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
    expect(c.close.buffer).toBe(reserved);
    for (const k of KEYS) expect([...c[k]]).toEqual([...b[k]]);
    app.recycle(c);
    // a failed load gives the reserve back
    await expect(app.load("it's", 'S/USD', '1m', 0, 1.5)).rejects.toMatchObject({ code: 'invalid_input' });
    const d = await app.load('split-dense', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1));
    expect(d.close.length).toBe(240_000);
    expect(d.close.buffer).not.toBe(reserved); // the dense half outgrew its room: joined in new columns, the reserve given back
    expect((await app.load('split-regular', 'S/USD', '1m', 0, Date.UTC(2030, 0, 1))).close.buffer).toBe(reserved);
    // the parser's warm-up at start reads no table and leaves the loader as it was
    await app.prewarm(5000);
    expect(app.reservedBytes).toBe(300_000 * 48);
  });

  it('symbols and names are quoted (COPY takes no parameters); a range that is not whole milliseconds is refused', async () => {
    const csv = 'time,open,high,low,close,volume\n2024-01-01,1.5,2,1,1.75,10\n';
    await candles.importCsv("x'); DROP TABLE candles; --", "O'REILLY/USD", '1d', csv);
    const c = await candles.load("x'); DROP TABLE candles; --", "O'REILLY/USD", '1d', 0, Date.UTC(2030, 0, 1));
    expect([...c.close]).toEqual([1.75]);
    expect(await stored('csv-goog', 'GOOG/USD', '1d')).toBe(2148); // the table is still there
    for (const bad of [NaN, 1.5, Infinity]) await expect(candles.load('csv-goog', 'GOOG/USD', '1d', bad, Date.UTC(2030, 0, 1))).rejects.toMatchObject({ code: 'invalid_input' });
    const none = await candles.load('nothing-here', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    expect(none.time.length).toBe(0);
  });
});

describe('download through CCXT from the exchange simulator', () => {
  const ex = new ccxt.binance({ enableRateLimit: true, timeout: 5000 });
  beforeAll(() => pointExchangeAt(ex, sim.url));

  it('finds the missing ranges, downloads them page by page, resumes after a cancel and keeps what it got', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const from = now - 2500 * MIN;
    const to = now - 10 * MIN;
    expect(await candles.missing('binance', 'BTC/USDT', '1m', from, to)).toEqual([{ from, to }]);

    const ac = new AbortController();
    const progress: number[] = [];
    const first = await candles
      .download(ex, 'binance', 'BTC/USDT', '1m', [{ from, to }], {
        signal: ac.signal,
        onProgress: (p) => {
          progress.push(p);
          ac.abort(); // cancel after the first page
        },
      })
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'cancelled' });
    const kept = await candles.count('binance', 'BTC/USDT', '1m', from, to);
    expect(kept).toBe(1000); // one page of Binance's limit
    expect(progress[0]).toBeCloseTo(40, 0);

    const missing = await candles.missing('binance', 'BTC/USDT', '1m', from, to);
    expect(missing).toEqual([{ from: from + 1000 * MIN, to }]);
    const before = sim.requestLog.filter((r) => r.path.includes('klines')).length;
    const got = await candles.download(ex, 'binance', 'BTC/USDT', '1m', missing, { onProgress: (p) => progress.push(p) });
    expect(got).toBe(1490);
    expect(sim.requestLog.filter((r) => r.path.includes('klines')).length - before).toBe(2);
    expect(progress.at(-1)).toBe(100);
    expect(await candles.missing('binance', 'BTC/USDT', '1m', from, to)).toEqual([]);

    const c = await candles.load('binance', 'BTC/USDT', '1m', from, to);
    expect(c.time.length).toBe(2490);
    for (let i = 1; i < c.time.length; i++) expect(c.time[i]! - c.time[i - 1]!).toBe(MIN);
    const [k] = await ex.fetchOHLCV('BTC/USDT', '1m', from + 1234 * MIN, 1);
    expect([c.open[1234], c.high[1234], c.low[1234], c.close[1234], c.volume[1234]]).toEqual(k!.slice(1, 6));
  });

  it('a hole inside the stored range is found and filled', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const from = now - 2500 * MIN;
    await t.db.query(`DELETE FROM candles WHERE exchange = 'binance' AND timeframe = '1m' AND open_time >= 'epoch'::timestamptz + $1::bigint * interval '1 millisecond' AND open_time < 'epoch'::timestamptz + $2::bigint * interval '1 millisecond'`, [from + 100 * MIN, from + 110 * MIN]);
    const missing = await candles.missing('binance', 'BTC/USDT', '1m', from, now - 10 * MIN);
    expect(missing).toEqual([{ from: from + 100 * MIN, to: from + 110 * MIN }]);
    expect(await candles.download(ex, 'binance', 'BTC/USDT', '1m', missing)).toBe(10);
  });
});
