import type { Exchange } from 'ccxt';
import type pg from 'pg';
import { AppError } from '../../shared/errors';
import { backtestTimeframeMs, type BacktestTimeframe } from '../../shared/backtest-timeframes';
import type { Database } from '../db/database';
import { COLUMN_KEYS, sharedColumns } from '../kernel/columns';
import type { Columns } from '../kernel/types';
import { CandleCopy } from './candle-copy';
import { parseCandleCsv } from './csv';

/**
 * Candles for backtests, from the shared `candles` table (the heartbeat's, downloads, imported data
 * sets). Read as columns: one binary COPY parsed straight into Float64Arrays (candle-copy.ts) — no
 * text, no object per row; NUMERIC stays the stored truth, each value the double nearest to it.
 * Missing ranges are downloaded with CCXT `fetchOHLCV`, page by page, each page stored as it comes
 * (so a cancelled or failed download keeps what it got and the next run resumes after it).
 */

const ts = (p: string) => `('epoch'::timestamptz + (${p})::bigint * interval '1 millisecond')`;
/** Rows the columns are sized for at most before the load starts (2 M: 96 MB of columns). */
const MAX_GUESS = 2_000_000;
const IMPORT_BATCH = 5000;
/** The most column memory kept when idle (the largest spare up to 2 M candles' worth; a grown one may be larger). */
const IDLE_KEEP_BYTES = MAX_GUESS * 48;
/** Loads of at least this many candles are read in two halves over two connections at once. */
const SPLIT_MIN = 100_000;

/** Views on candles [a, b) of each column. */
function views(c: Columns, a: number, b: number): Columns {
  const out = {} as Columns;
  for (const k of COLUMN_KEYS) out[k] = c[k].subarray(a, b);
  return out;
}

/**
 * The two halves of a split load as one set of columns: in place when both were parsed where they
 * were put (the second moved down next to the first when the first had holes), else copied into
 * new columns (a half that outgrew its room: irregular open times).
 */
function join(full: Columns, h: number, one: Columns, two: Columns): Columns {
  const n1 = one.close.length;
  const n2 = two.close.length;
  const base = full.close.byteOffset;
  const inPlace = one.close.buffer === full.close.buffer && one.close.byteOffset === base && two.close.buffer === full.close.buffer && two.close.byteOffset === base + h * 8 && n1 <= h;
  if (inPlace) {
    for (const k of COLUMN_KEYS) if (n1 < h) full[k].copyWithin(n1, h, h + n2);
    return views(full, 0, n1 + n2);
  }
  const out = sharedColumns(n1 + n2);
  for (const k of COLUMN_KEYS) {
    out[k].set(one[k]);
    out[k].set(two[k], n1);
  }
  return out;
}

export interface Range {
  from: number;
  to: number;
}

const empty = (): Columns => sharedColumns(0);

function monthsBetween(a: number, b: number): number {
  const x = new Date(a);
  const y = new Date(b);
  return (y.getUTCFullYear() - x.getUTCFullYear()) * 12 + y.getUTCMonth() - x.getUTCMonth();
}

/** Open time of the candle after the one opening at `t` ('1M': the next calendar month). */
export function nextOpen(tf: BacktestTimeframe, t: number): number {
  if (tf === '1M') {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return t + backtestTimeframeMs(tf);
}

export class BacktestCandles {
  /** Column buffers given back (`recycle`), lent to the next load of the same size. */
  private readonly spare: SharedArrayBuffer[] = [];
  /** Buffers of columns this loader returned and `recycle` may take back (each once). */
  private readonly issued = new WeakSet<SharedArrayBuffer>();
  private spareTimer: NodeJS.Timeout | null = null;
  /** Memory made ready at start (`reserve`), kept for the loader's life; null while a load holds it. */
  private reserved: SharedArrayBuffer | null = null;
  private reservedBuffer: SharedArrayBuffer | null = null;

  constructor(
    private readonly db: Database,
    /** Most rows the columns are sized for before the first row arrives (they grow past it). */
    private readonly maxGuess = MAX_GUESS,
    /** Large loads in two halves over two connections (false: one COPY; the benches compare). */
    private readonly split = true,
  ) {}

  async count(exchange: string, symbol: string, tf: BacktestTimeframe, from: number, to: number): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= ${ts('$4')} AND open_time < ${ts('$5')}`,
      [exchange, symbol, tf, from, to],
    );
    return rows[0]!.n;
  }

  /**
   * Stored candles with open time in [from, to), oldest first, as float64 columns: one binary COPY
   * streamed and parsed as it arrives (candle-copy.ts). PostgreSQL walks the primary key in order and
   * sends NUMERIC and timestamptz as they are stored; this process turns them into doubles (the same
   * as Number() of each exact decimal) while the server is still reading: the two run side by side.
   */
  async load(exchange: string, symbol: string, tf: BacktestTimeframe, from: number, to: number): Promise<Columns> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new AppError('invalid_input', 'errors.backtest.rangeMustWholeEpoch');
    // The stored span sizes the columns (exact for a series without holes): the first and the last
    // candle, each one probe of the primary key. (min()/max() over the range scanned all 1 M index
    // entries, ~300 ms, whenever the planner's statistics predated an import.)
    const edge = (dir: 'ASC' | 'DESC') =>
      `(SELECT (date_part('epoch', open_time) * 1000)::bigint FROM candles
         WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= ${ts('$4')} AND open_time < ${ts('$5')}
         ORDER BY open_time ${dir} LIMIT 1)`;
    const { rows } = await this.db.query<{ a: string | null; b: string | null }>(`SELECT ${edge('ASC')} AS a, ${edge('DESC')} AS b`, [exchange, symbol, tf, from, to]);
    if (rows[0]!.a === null) return empty();
    const a = Number(rows[0]!.a);
    const b = Number(rows[0]!.b);
    const guess = tf === '1M' ? monthsBetween(a, b) + 1 : Math.floor((b - a) / backtestTimeframeMs(tf)) + 1;
    const capacity = Math.max(16, Math.min(guess, this.maxGuess));
    const buffer = this.takeSpare(capacity * 48);
    const buf = buffer ?? new SharedArrayBuffer(capacity * 48);
    const full = CandleCopy.on(buf, buf.byteLength / 48);
    let columns: Columns | null = null;
    try {
      if (!this.split || tf === '1M' || guess < SPLIT_MIN || guess > this.maxGuess) columns = await this.copy(exchange, symbol, tf, from, to, full);
      else {
        // Two halves over two connections at once: two server processes read and send (each on its
        // own core) while this process parses both streams as they come. The first half's rows go
        // at the start of the columns, the second's from the middle; the halves are joined in place.
        const h = Math.floor(guess / 2);
        const mid = a + h * backtestTimeframeMs(tf);
        const [one, two] = await Promise.all([
          this.copy(exchange, symbol, tf, from, mid, views(full, 0, h)),
          this.copy(exchange, symbol, tf, mid, to, views(full, h, full.close.length)),
        ]);
        columns = join(full, h, one, two);
      }
    } finally {
      // the reserve back when this load did not keep it (a failure, or more rows than it held)
      if (buffer && buffer === this.reservedBuffer && columns?.close.buffer !== buffer) this.reserved = buffer;
    }
    if (columns.close.buffer instanceof SharedArrayBuffer) this.issued.add(columns.close.buffer);
    return columns;
  }

  /** One binary COPY of [from, to) parsed into `into` (CandleCopy grows past it when it holds too few). */
  private async copy(exchange: string, symbol: string, tf: BacktestTimeframe, from: number, to: number, into: Columns): Promise<Columns> {
    const client = await this.db.pool.connect();
    try {
      // COPY takes no parameters: the key is quoted by the driver, the times are checked integers.
      const lit = (x: string) => client.escapeLiteral(x);
      const copy = new CandleCopy(
        `COPY (SELECT open_time, open, high, low, close, volume FROM candles
                WHERE exchange = ${lit(exchange)} AND symbol = ${lit(symbol)} AND timeframe = ${lit(tf)}
                  AND open_time >= ${ts(String(from))} AND open_time < ${ts(String(to))}
                ORDER BY open_time) TO STDOUT (FORMAT binary)`,
        into.close.length,
        { into },
      );
      void client.query(copy as unknown as pg.QueryConfig);
      return await copy.done;
    } finally {
      client.release();
    }
  }

  /**
   * The caller is done with columns `load` returned (the run is over): their memory serves the next
   * load of the same size, which writes every value it returns — 48 MB of fresh pages per 1 M
   * candles cost this VM about as much as parsing them. The columns become empty arrays; views kept
   * on them (a `subarray`, the kernel's result) would see the next load's candles, so call it only
   * once nothing reads them. Columns not from this loader, or recycled already, are left alone. At
   * most two buffers are kept, and only the largest after 30 s without a load.
   */
  recycle(columns: Columns): void {
    const buf = columns.close.buffer;
    if (!(buf instanceof SharedArrayBuffer) || !this.issued.has(buf)) return;
    if (!(['time', 'open', 'high', 'low', 'close', 'volume'] as const).every((k) => columns[k].buffer === buf)) return;
    this.issued.delete(buf);
    for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) columns[k] = new Float64Array(0);
    if (buf === this.reservedBuffer) {
      this.reserved = buf;
      return;
    }
    this.spare.push(buf);
    if (this.spare.length > 2) this.spare.shift();
    if (this.spareTimer) clearTimeout(this.spareTimer);
    // idle: the largest spare stays (a later load of up to its size, however long after, is on warm memory)
    this.spareTimer = setTimeout(() => {
      const largest = this.spare.reduce<SharedArrayBuffer | null>((m, b) => (m === null || b.byteLength > m.byteLength ? b : m), null);
      this.spare.length = 0;
      if (largest && largest.byteLength <= IDLE_KEEP_BYTES) this.spare.push(largest);
    }, 30_000);
    this.spareTimer.unref();
  }

  /**
   * Memory for the columns of a load of at least `bytes`: a spare or the reserve, the smallest
   * that holds them and is at most 4× as large (CandleCopy lays the columns out on all of it and
   * returns views on what the load filled).
   */
  private takeSpare(bytes: number): SharedArrayBuffer | undefined {
    const fits = (b: SharedArrayBuffer) => b.byteLength >= bytes && b.byteLength <= 4 * bytes;
    let k = -1;
    this.spare.forEach((b, i) => {
      if (fits(b) && (k < 0 || b.byteLength < this.spare[k]!.byteLength)) k = i;
    });
    const r = this.reserved;
    if (r && fits(r) && (k < 0 || r.byteLength <= this.spare[k]!.byteLength)) {
      this.reserved = null;
      return r;
    }
    return k < 0 ? undefined : this.spare.splice(k, 1)[0];
  }

  /**
   * Column memory for loads of up to `candles` candles (48 bytes a candle), made now and written
   * once (its pages faulted in now, not during the first load: on this VM 48 MB of fresh pages
   * cost about what parsing 1 M candles does), kept for the loader's life. BacktestService.start.
   */
  reserve(candles: number): void {
    if (!(Number.isSafeInteger(candles) && candles > 0)) return;
    if (this.reservedBuffer && this.reservedBuffer.byteLength >= candles * 48) return;
    const b = new SharedArrayBuffer(candles * 48);
    new Uint8Array(b).fill(0); // written (zeros too: a write faults each page in, a read would only map the zero page)
    this.reservedBuffer = b;
    this.reserved = b;
  }

  /** Bytes of the reserve (0 when none). */
  get reservedBytes(): number {
    return this.reservedBuffer?.byteLength ?? 0;
  }

  /**
   * Runs the COPY parser once on a few thousand synthetic rows made by the server (no table read),
   * so the first real load finds it compiled and a connection open. BacktestService.start.
   */
  async prewarm(rows = 20_000): Promise<void> {
    const client = await this.db.pool.connect();
    try {
      const copy = new CandleCopy(
        `COPY (SELECT 'epoch'::timestamptz + g * interval '1 minute', round((30000 + 1000 * sin(g / 500.0))::numeric, 2), round((30010 + 1000 * sin(g / 500.0))::numeric, 2),
                      round((29990 + 1000 * sin(g / 500.0))::numeric, 2), round((30002 + 1000 * sin(g / 500.0))::numeric, 2), round((1 + (g % 97) / 7.0)::numeric, 8)
                 FROM generate_series(1, ${Math.max(1, Math.floor(rows))}) g) TO STDOUT (FORMAT binary)`,
        rows,
      );
      void client.query(copy as unknown as pg.QueryConfig);
      await copy.done;
    } finally {
      client.release();
    }
  }

  /**
   * The parts of [from, to) without stored candles: before the first, after the last, and between
   * two stored candles more than one timeframe apart. `to` is capped at `now` (no future candles).
   */
  async missing(exchange: string, symbol: string, tf: BacktestTimeframe, from: number, to: number, now = Date.now()): Promise<Range[]> {
    const end = Math.min(to, now);
    if (end <= from) return [];
    const len = backtestTimeframeMs(tf);
    const { rows } = await this.db.query<{ prev: string | null; t: string | null }>(
      `SELECT (extract(epoch FROM prev) * 1000)::bigint AS prev, (extract(epoch FROM t) * 1000)::bigint AS t
         FROM (SELECT open_time AS t, lag(open_time) OVER (ORDER BY open_time) AS prev FROM candles
                WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= ${ts('$4')} AND open_time < ${ts('$5')}) x
        WHERE prev IS NULL OR t - prev > $6 * interval '1 millisecond'
        ORDER BY t`,
      [exchange, symbol, tf, from, end, len],
    );
    const out: Range[] = [];
    if (rows.length === 0) return [{ from, to: end }];
    for (const r of rows) {
      const t = Number(r.t);
      if (r.prev === null) {
        if (t - from >= len) out.push({ from, to: t });
      } else {
        out.push({ from: nextOpen(tf, Number(r.prev)), to: t });
      }
    }
    const { rows: last } = await this.db.query<{ t: string }>(
      `SELECT (extract(epoch FROM max(open_time)) * 1000)::bigint AS t FROM candles
        WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= ${ts('$4')} AND open_time < ${ts('$5')}`,
      [exchange, symbol, tf, from, end],
    );
    const after = nextOpen(tf, Number(last[0]!.t));
    // the last candle may still be open; anything after it that has closed is missing
    if (after < end && nextOpen(tf, after) <= now) out.push({ from: after, to: end });
    return out;
  }

  /**
   * Download `ranges` with CCXT `fetchOHLCV` (pages of the exchange's limit; CCXT's rate limiter
   * spaces the requests), storing each page at once. Only closed candles are stored. Between pages
   * the signal is checked: an abort throws `cancelled` and keeps what was stored.
   */
  async download(
    ex: Exchange,
    exchange: string,
    symbol: string,
    tf: BacktestTimeframe,
    ranges: readonly Range[],
    opts: { signal?: AbortSignal; onProgress?: (percent: number) => void; now?: () => number } = {},
  ): Promise<number> {
    const now = opts.now ?? (() => Date.now());
    const features = (ex as unknown as { features?: { spot?: { fetchOHLCV?: { limit?: number } } } }).features;
    const limit = Math.max(1, Math.min(1000, features?.spot?.fetchOHLCV?.limit ?? 500));
    const total = ranges.reduce((s, r) => s + (r.to - r.from), 0) || 1;
    let before = 0; // length of the ranges already downloaded
    let stored = 0;
    for (const range of ranges) {
      let since = range.from;
      while (since < range.to) {
        if (opts.signal?.aborted) throw new AppError('cancelled', 'errors.backtest.downloadWasCancelledCandles');
        let page: number[][];
        try {
          page = (await ex.fetchOHLCV(symbol, tf, since, limit)) as number[][];
        } catch (e) {
          throw new AppError('exchange_error', 'errors.backtest.downloadingCandlesFromFailed', { symbol, tf, exchange, reason: (e as Error).message });
        }
        const t0 = now();
        const rows = page.filter((k) => k[0]! >= since && k[0]! < range.to && nextOpen(tf, k[0]!) <= t0 && k.slice(1, 6).every((x) => Number.isFinite(x)));
        if (rows.length) await this.upsertNumbers(exchange, symbol, tf, rows);
        stored += rows.length;
        const lastTime = page.length ? page[page.length - 1]![0]! : NaN;
        if (!page.length || !(lastTime >= since)) break; // nothing more from the exchange
        since = nextOpen(tf, lastTime);
        opts.onProgress?.(Math.min(100, ((before + Math.min(since, range.to) - range.from) / total) * 100));
      }
      before += range.to - range.from;
    }
    opts.onProgress?.(100);
    return stored;
  }

  /**
   * Import a CSV data set (electron/backtest/csv.ts) into `candles` under (exchange = the data set's
   * name, symbol, timeframe): every row or none, in one transaction. Rows already stored under the
   * same key are replaced (an import can be repeated with corrected data).
   */
  async importCsv(exchange: string, symbol: string, tf: BacktestTimeframe, csv: string): Promise<{ rows: number; from: number; to: number }> {
    const rows = parseCandleCsv(csv);
    await this.db.tx(async (c) => {
      for (let i = 0; i < rows.length; i += IMPORT_BATCH) {
        const part = rows.slice(i, i + IMPORT_BATCH);
        await c.query(
          `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
           SELECT $1, $2, $3, 'epoch'::timestamptz + u.t * interval '1 millisecond', u.o, u.h, u.l, u.c, u.v
             FROM unnest($4::bigint[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[]) AS u(t, o, h, l, c, v)
           ON CONFLICT (exchange, symbol, timeframe, open_time) DO UPDATE
             SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`,
          [exchange, symbol, tf, part.map((r) => r.time), part.map((r) => r.open), part.map((r) => r.high), part.map((r) => r.low), part.map((r) => r.close), part.map((r) => r.volume)],
        );
      }
    });
    return { rows: rows.length, from: rows[0]!.time, to: rows[rows.length - 1]!.time };
  }

  /** Insert-or-update rows [time, open, high, low, close, volume] (numbers, as CCXT gives them). */
  private async upsertNumbers(exchange: string, symbol: string, tf: BacktestTimeframe, rows: number[][]): Promise<void> {
    const col = (k: number) => rows.map((r) => String(r[k]));
    await this.db.query(
      `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
       SELECT $1, $2, $3, 'epoch'::timestamptz + u.t * interval '1 millisecond', u.o, u.h, u.l, u.c, u.v
         FROM unnest($4::bigint[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[]) AS u(t, o, h, l, c, v)
       ON CONFLICT (exchange, symbol, timeframe, open_time) DO UPDATE
         SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`,
      [exchange, symbol, tf, rows.map((r) => r[0]), col(1), col(2), col(3), col(4), col(5)],
    );
  }
}
