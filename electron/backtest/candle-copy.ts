import { sharedColumns } from '../kernel/columns';
import type { Columns } from '../kernel/types';

/**
 * Candles streamed out of PostgreSQL with `COPY (SELECT open_time, open, high, low, close, volume …)
 * TO STDOUT (FORMAT binary)`, parsed as the bytes arrive straight into float64 columns: no text, no
 * object per row, the server only reads and sends (no number formatting: NUMERIC goes out in its own
 * base-10000 form, timestamptz as microseconds).
 *
 * NUMERIC stays the source of truth; each value becomes the float64 nearest to the exact decimal,
 * the same number `Number(text)` (and `numeric::float8`) gives: when the decimal's digits make an
 * integer M ≤ 2^53 and its scale is at most 22, M × 10^k or M / 10^k is one correctly rounded IEEE
 * operation on two exact operands (Clinger's fast path); any other value (more than 15–16
 * significant digits, a huge scale) goes through its exact decimal text and `Number()`.
 *
 * A pg "submittable": `client.query(new CandleCopy(sql, capacity))`, then `await copy.done`.
 */

/** 2000-01-01T00:00:00Z in ms: PostgreSQL's epoch for timestamps. */
const PG_EPOCH_MS = 946_684_800_000;
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FIELDS = 6;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact up to 1e22
const NBASE = 10_000;
const MAX_EXACT = 2 ** 53;

const int32 = (b: Buffer, p: number): number => (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;

/** A NUMERIC in PostgreSQL's binary form (numeric_send) at `p`, as the nearest float64. */
export function numericValue(b: Buffer, p: number): number {
  const ndigits = (b[p]! << 8) | b[p + 1]!;
  const weight = ((b[p + 2]! << 24) >> 16) | b[p + 3]!; // signed int16
  const sign = (b[p + 4]! << 8) | b[p + 5]!;
  if (sign === 0xc000) return NaN;
  if (sign === 0xd000) return Infinity;
  if (sign === 0xf000) return -Infinity;
  if (ndigits === 0) return sign === 0x4000 ? -0 : 0;
  let m = 0;
  let q = p + 8;
  for (let i = 0; i < ndigits; i++, q += 2) {
    m = m * NBASE + ((b[q]! << 8) | b[q + 1]!);
    if (m >= MAX_EXACT) return slowNumeric(b, p); // below 2^53 the running value is exact
  }
  const e = 4 * (weight - ndigits + 1); // value = m × 10^e
  let v: number;
  if (e === 0) v = m;
  else if (e > 0 && e <= 22) v = m * POW10[e]!;
  else if (e < 0 && e >= -22) v = m / POW10[-e]!;
  else return slowNumeric(b, p);
  return sign === 0x4000 ? -v : v;
}

/** The exact decimal text of a binary NUMERIC, then Number(): correctly rounded, like numeric::float8. */
function slowNumeric(b: Buffer, p: number): number {
  const ndigits = b.readUInt16BE(p);
  const weight = b.readInt16BE(p + 2);
  const sign = b.readUInt16BE(p + 4);
  let digits = '';
  for (let i = 0; i < ndigits; i++) digits += String(b.readUInt16BE(p + 8 + 2 * i)).padStart(4, '0');
  return Number(`${sign === 0x4000 ? '-' : ''}0.${digits}e${4 * (weight + 1)}`);
}

export class CandleCopy {
  readonly done: Promise<Columns>;
  private resolve!: (c: Columns) => void;
  private reject!: (e: Error) => void;
  private cols: Columns;
  private n = 0;
  private carry: Buffer | null = null;
  private headerRead = false;
  private finished = false;
  private failure: Error | null = null;

  constructor(
    private readonly text: string,
    capacity: number,
  ) {
    this.cols = CandleCopy.alloc(Math.max(16, capacity));
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  /** On one SharedArrayBuffer: the kernel hands shared columns to its isolates without a copy. */
  private static alloc(n: number): Columns {
    return sharedColumns(n);
  }

  // --- pg's submittable protocol (pg/lib/client.js calls these) ---
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.failure || this.finished) return;
    try {
      this.feed(msg.chunk);
    } catch (e) {
      this.failure = e as Error; // reported once PostgreSQL has finished sending
    }
  }
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    if (this.failure) return this.reject(this.failure);
    if (!this.finished) return this.reject(new Error('The candle stream ended without its trailer.'));
    const n = this.n;
    const c = this.cols;
    if (n === c.time.length) return this.resolve(c);
    const exact = CandleCopy.alloc(n);
    for (const k of Object.keys(exact) as (keyof Columns)[]) exact[k].set(c[k].subarray(0, n));
    this.resolve(exact);
  }
  handleError(e: Error): void {
    this.reject(e);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(msg: string): void }): void {
    connection.sendCopyFail('CandleCopy only reads');
  }

  private grow(): void {
    const bigger = CandleCopy.alloc(this.cols.time.length * 2);
    for (const k of Object.keys(bigger) as (keyof Columns)[]) bigger[k].set(this.cols[k]);
    this.cols = bigger;
  }

  /** Rows from one CopyData message (PostgreSQL sends one row per message; any split is handled). */
  private feed(chunk: Buffer): void {
    let b = chunk;
    if (this.carry) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let p = 0;
    if (!this.headerRead) {
      if (b.length < 19) {
        this.carry = Buffer.from(b);
        return;
      }
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('Not a binary COPY stream.');
      p = 19 + b.readInt32BE(15);
      this.headerRead = true;
    }
    const end = b.length;
    while (p + 2 <= end) {
      const fields = (b[p]! << 8) | b[p + 1]!;
      if (fields === 0xffff) {
        this.finished = true; // the trailer (-1)
        return;
      }
      if (fields !== FIELDS) throw new Error(`A candle row has ${fields} fields, expected ${FIELDS}.`);
      // Parsed optimistically (PostgreSQL sends whole rows); a row cut short is read again with the next chunk.
      if (this.n === this.cols.time.length) this.grow();
      const cols = this.cols;
      const i = this.n;
      let q = p + 2;
      // open_time: int8 microseconds since 2000-01-01 (exact as a double below 2^53 µs, ±285 years)
      if (q + 12 > end) break;
      if (int32(b, q) !== 8) throw new Error('open_time is not a timestamptz.');
      const us = int32(b, q + 4) * 4_294_967_296 + (int32(b, q + 8) >>> 0);
      cols.time[i] = Math.round(us / 1000) + PG_EPOCH_MS;
      q += 12;
      let whole = true;
      for (let f = 1; f < FIELDS; f++) {
        if (q + 4 > end) {
          whole = false;
          break;
        }
        const len = int32(b, q);
        if (len < 8 || q + 4 + len > end) {
          if (len < 0) throw new Error('A stored candle has a NULL value.');
          if (len < 8) throw new Error('A candle value is not a NUMERIC.');
          whole = false;
          break;
        }
        const v = numericValue(b, q + 4);
        if (f === 1) cols.open[i] = v;
        else if (f === 2) cols.high[i] = v;
        else if (f === 3) cols.low[i] = v;
        else if (f === 4) cols.close[i] = v;
        else cols.volume[i] = v;
        q += 4 + len;
      }
      if (!whole) break;
      this.n = i + 1;
      p = q;
    }
    if (p < b.length) this.carry = Buffer.from(b.subarray(p));
  }
}
