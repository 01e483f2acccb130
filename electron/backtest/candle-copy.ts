import { COLUMN_KEYS, sharedColumns } from '../kernel/columns';
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
 *
 * Read off the socket itself: PostgreSQL sends one CopyData message per row, and pg turns each
 * into a message object, a Buffer view and an event (about half of this process's CPU per load).
 * While the COPY streams, `submit` puts `onSocket` in place of pg's reader on the connection's
 * socket: it walks the protocol messages in each chunk as it comes and parses the rows in place
 * (a message cut by a chunk boundary is completed in a small buffer: nothing is concatenated),
 * passes any other message (CopyOutResponse, a notice) to pg's reader, and hands the socket back
 * to pg at the first message that ends the COPY (CopyDone, an error), with the rest of that chunk.
 * pg then completes the query as usual (CommandComplete, ReadyForQuery, errors). Where the socket's
 * reader is not pg's one listener, pg's own path (`handleCopyData`) parses the same bytes.
 */

/** 2000-01-01T00:00:00Z in ms: PostgreSQL's epoch for timestamps. */
const PG_EPOCH_MS = 946_684_800_000;
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FIELDS = 6;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact up to 1e22
const NBASE = 10_000;
const MAX_EXACT = 2 ** 53;

const COPY_DATA = 0x64; // 'd'
/** Messages pg may see in the middle of the COPY without it ending: CopyOutResponse, notice, parameter status, notification. */
const PASS_THROUGH = new Set([0x48, 0x4e, 0x53, 0x41]); // 'H' 'N' 'S' 'A'

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

export interface CandleCopyOptions {
  /** Parse off the raw socket (default true); false: through pg's CopyData messages. */
  rawSocket?: boolean;
  /**
   * Memory for the columns (at least 48 bytes × capacity, from an earlier load or the reserve:
   * BacktestCandles), written over. Larger serves too: the columns are laid out for all it holds
   * and returned as views on their first n values (no copy).
   */
  buffer?: SharedArrayBuffer;
  /** Columns to fill in place (views of equal length: the capacity), instead of `buffer`: one part of a load split in ranges. */
  into?: Columns;
}

type DataListener = (chunk: Buffer) => void;
interface PgConnection {
  query(text: string): void;
  stream?: { listeners(event: 'data'): unknown[]; on(event: 'data', l: DataListener): unknown; removeListener(event: 'data', l: DataListener): unknown };
}

export class CandleCopy {
  readonly done: Promise<Columns>;
  private resolve!: (c: Columns) => void;
  private reject!: (e: Error) => void;
  private cols: Columns;
  private n = 0;
  /** COPY data after the last whole row (a row cut across CopyData messages: pg's path only). */
  private carry: Buffer | null = null;
  private headerRead = false;
  private finished = false;
  private failure: Error | null = null;
  private readonly rawSocket: boolean;
  /** A protocol message cut by a socket chunk boundary: its bytes so far (raw path). */
  private part = Buffer.allocUnsafe(512);
  private partLen = 0;
  /** While the raw path reads the socket: pg's reader, to hand bytes and the socket back to. */
  private pg: { stream: NonNullable<PgConnection['stream']>; listener: DataListener } | null = null;
  private readonly onSocketBound = (chunk: Buffer): void => this.onSocket(chunk);

  constructor(
    private readonly text: string,
    capacity: number,
    opts: CandleCopyOptions = {},
  ) {
    const cap = Math.max(16, capacity);
    const row = 8 * COLUMN_KEYS.length;
    this.cols = opts.into && opts.into.close.length > 0 ? opts.into : opts.buffer && opts.buffer.byteLength >= cap * row ? CandleCopy.on(opts.buffer, Math.floor(opts.buffer.byteLength / row)) : CandleCopy.alloc(cap);
    this.rawSocket = opts.rawSocket ?? true;
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  /** On one SharedArrayBuffer: the kernel hands shared columns to its isolates without a copy. */
  private static alloc(n: number): Columns {
    return sharedColumns(n);
  }

  /** Columns of n candles on a given buffer, laid out as sharedColumns does. */
  static on(buffer: SharedArrayBuffer, n: number): Columns {
    const out = {} as Columns;
    COLUMN_KEYS.forEach((k, i) => (out[k] = new Float64Array(buffer, i * n * 8, n)));
    return out;
  }

  // --- pg's submittable protocol (pg/lib/client.js calls these) ---
  submit(connection: PgConnection): void {
    // pg submits a query once the previous one's ReadyForQuery is read: its reader is between
    // messages, and every byte of this query's answer comes in a later chunk.
    const stream = connection.stream;
    const listeners = stream?.listeners('data') ?? [];
    if (this.rawSocket && stream && listeners.length === 1 && typeof listeners[0] === 'function') {
      const listener = listeners[0] as DataListener;
      this.pg = { stream, listener };
      stream.on('data', this.onSocketBound);
      stream.removeListener('data', listener);
    }
    connection.query(this.text);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    this.copyData(msg.chunk, 0, msg.chunk.length);
  }
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    this.handBack();
    if (this.failure) return this.reject(this.failure);
    if (!this.finished) return this.reject(new Error('The candle stream ended without its trailer.'));
    const n = this.n;
    const c = this.cols;
    if (n === c.time.length) return this.resolve(c);
    // fewer rows than room (holes in the series, a larger buffer): views on the first n of each column, in place
    const exact = {} as Columns;
    for (const k of COLUMN_KEYS) exact[k] = c[k].subarray(0, n);
    this.resolve(exact);
  }
  handleError(e: Error): void {
    this.handBack();
    this.reject(e);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(msg: string): void }): void {
    connection.sendCopyFail('CandleCopy only reads');
  }

  // --- the raw path: protocol messages straight off the socket ---

  /** Gives pg its reader back (idempotent), then `rest` to read. */
  private handBack(rest?: Buffer): void {
    const pg = this.pg;
    if (!pg) return;
    this.pg = null;
    pg.stream.on('data', pg.listener);
    pg.stream.removeListener('data', this.onSocketBound);
    if (rest && rest.length > 0) pg.listener(rest);
  }

  /**
   * One chunk of the socket: whole messages are handled where they lie; a message cut at the
   * end is kept in `part` and completed from the next chunk (a few per 64 KB chunk at most).
   */
  private onSocket(chunk: Buffer): void {
    const end = chunk.length;
    let p = 0;
    if (this.partLen > 0) {
      while (this.partLen < 5 && p < end) this.part[this.partLen++] = chunk[p++]!;
      if (this.partLen < 5) return;
      const total = 1 + int32(this.part, 1);
      if (total < 5) return this.handBack(Buffer.concat([this.part.subarray(0, this.partLen), chunk.subarray(p)])); // not a message: pg reports it
      if (this.part.length < total) {
        const bigger = Buffer.allocUnsafe(Math.max(total, 2 * this.part.length));
        this.part.copy(bigger, 0, 0, this.partLen);
        this.part = bigger;
      }
      const take = Math.min(total - this.partLen, end - p);
      chunk.copy(this.part, this.partLen, p, p + take);
      this.partLen += take;
      p += take;
      if (this.partLen < total) return;
      this.partLen = 0;
      if (!this.message(this.part, 0, total, true)) return this.handBack(Buffer.concat([this.part.subarray(0, total), chunk.subarray(p)]));
    }
    while (p + 5 <= end) {
      const len = int32(chunk, p + 1);
      if (len < 4) return this.handBack(chunk.subarray(p));
      const q = p + 1 + len;
      if (q > end) break;
      if (!this.message(chunk, p, q, false)) return this.handBack(chunk.subarray(p));
      p = q;
    }
    if (p < end) {
      if (this.part.length < end - p) this.part = Buffer.allocUnsafe(Math.max(end - p, 2 * this.part.length));
      chunk.copy(this.part, 0, p, end);
      this.partLen = end - p;
    }
  }

  /** The message at b[p, q): false when it ends the COPY (pg reads it and what follows). */
  private message(b: Buffer, p: number, q: number, reused: boolean): boolean {
    const type = b[p]!;
    if (type === COPY_DATA) {
      this.copyData(b, p + 5, q);
      return true;
    }
    if (PASS_THROUGH.has(type)) {
      this.pg?.listener(reused ? Buffer.from(b.subarray(p, q)) : b.subarray(p, q));
      return true;
    }
    return false;
  }

  // --- the COPY data: header, rows, trailer ---

  /** COPY data bytes b[start, end) (a parse error is kept and reported once PostgreSQL has finished sending). */
  private copyData(b: Buffer, start: number, end: number): void {
    if (this.failure || this.finished) return;
    try {
      if (this.carry) {
        const joined = Buffer.concat([this.carry, b.subarray(start, end)]);
        this.carry = null;
        this.feed(joined, 0, joined.length);
      } else this.feed(b, start, end);
    } catch (e) {
      this.failure = e as Error;
    }
  }

  private grow(): void {
    const bigger = CandleCopy.alloc(this.cols.time.length * 2);
    for (const k of Object.keys(bigger) as (keyof Columns)[]) bigger[k].set(this.cols[k]);
    this.cols = bigger;
  }

  /** Rows from b[start, end) (PostgreSQL sends one row per CopyData message; any split is handled). */
  private feed(b: Buffer, start: number, end: number): void {
    let p = start;
    if (!this.headerRead) {
      if (end - p < 19) {
        this.carry = Buffer.from(b.subarray(p, end));
        return;
      }
      if (!b.subarray(p, p + 11).equals(SIGNATURE)) throw new Error('Not a binary COPY stream.');
      const ext = int32(b, p + 15);
      if (ext < 0) throw new Error('Not a binary COPY stream.');
      if (end - p < 19 + ext) {
        this.carry = Buffer.from(b.subarray(p, end));
        return;
      }
      p += 19 + ext;
      this.headerRead = true;
    }
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
      if (q + 4 > end) break;
      const tlen = int32(b, q);
      if (tlen < 0) throw new Error('A stored candle has a NULL open_time.');
      if (tlen !== 8) throw new Error('open_time is not a timestamptz.');
      if (q + 12 > end) break;
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
    if (p < end) this.carry = Buffer.from(b.subarray(p, end));
  }
}
