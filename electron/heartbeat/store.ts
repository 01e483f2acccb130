import type Decimal from 'decimal.js';
import type pg from 'pg';
import { MINUTE_MS, type Timeframe } from '../../shared/timeframes';
import type { Database, Queryable } from '../db/database';
import type { MinuteCandle, MinuteRange } from './aggregate';
import type { Candle } from '../../shared/contract/heartbeat';

/**
 * Candles in PostgreSQL (table `candles`, shared by all profiles). Writes are idempotent upserts
 * of many rows per statement; reads return decimal strings exactly as stored and open times in ms.
 */
export interface CandleRow {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  openTime: number;
  open: Decimal | string;
  high: Decimal | string;
  low: Decimal | string;
  close: Decimal | string;
  volume: Decimal | string;
}

/** As the API returns it (the contract's `Candle`). */
export type StoredCandle = Candle;

export interface CandleQuery {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** open time ≥ from (ms) */
  from?: number;
  /** open time < to (ms) */
  to?: number;
  /** at most this many: the first ones from `from`, else the latest ones before `to` */
  limit?: number;
}

export const DEFAULT_QUERY_LIMIT = 1000;
export const MAX_QUERY_LIMIT = 10_000;
/** Rows per INSERT statement (arrays of parameters: no per-row placeholders). */
const BATCH = 5000;

const str = (v: Decimal | string): string => (typeof v === 'string' ? v : v.toFixed());
const ts = (p: string) => `('epoch'::timestamptz + (${p})::bigint * interval '1 millisecond')`;
const ms = (col: string) => `(extract(epoch FROM ${col}) * 1000)::bigint`;

const UPSERT = `
  INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
  SELECT u.exchange, u.symbol, u.timeframe, 'epoch'::timestamptz + u.t * interval '1 millisecond', u.o, u.h, u.l, u.c, u.v
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[])
      AS u(exchange, symbol, timeframe, t, o, h, l, c, v)
  ON CONFLICT (exchange, symbol, timeframe, open_time) DO UPDATE
    SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume
    WHERE (candles.open, candles.high, candles.low, candles.close, candles.volume)
          IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)`;

/** Rows as column arrays for the UPSERT (deduplicated by key, later wins), in statements of at most BATCH rows. */
function upsertParams(rows: readonly CandleRow[]): unknown[][][] {
  if (rows.length === 0) return [];
  const unique = new Map<string, CandleRow>();
  for (const r of rows) unique.set(`${r.exchange}\u0000${r.symbol}\u0000${r.timeframe}\u0000${r.openTime}`, r);
  const all = [...unique.values()];
  const out: unknown[][][] = [];
  for (let i = 0; i < all.length; i += BATCH) {
    const part = all.slice(i, i + BATCH);
    const n = part.length;
    const cols: unknown[][] = [new Array(n), new Array(n), new Array(n), new Array(n), new Array(n), new Array(n), new Array(n), new Array(n), new Array(n)];
    for (let j = 0; j < n; j++) {
      const r = part[j]!;
      cols[0]![j] = r.exchange;
      cols[1]![j] = r.symbol;
      cols[2]![j] = r.timeframe;
      cols[3]![j] = r.openTime;
      cols[4]![j] = str(r.open);
      cols[5]![j] = str(r.high);
      cols[6]![j] = str(r.low);
      cols[7]![j] = str(r.close);
      cols[8]![j] = str(r.volume);
    }
    out.push(cols);
  }
  return out;
}

export class CandleWriter {
  private client: pg.PoolClient | null = null;
  private closed = false;

  constructor(private readonly db: Database) {}

  async upsert(rows: readonly CandleRow[]): Promise<void> {
    const parts = upsertParams(rows);
    if (parts.length === 0) return;
    if (this.closed) throw new Error('the candle writer is closed');
    if (!this.client) {
      const c = await this.db.pool.connect();
      try {
        await c.query('SET synchronous_commit = off');
      } catch (e) {
        c.release(true);
        throw e;
      }
      // dropped by the server while idle (a restart, an admin's kill): let go, the next call opens
      // a new one — an 'error' event with no listener would end the process
      c.on('error', () => {
        if (this.client !== c) return;
        this.client = null;
        c.release(true);
      });
      this.client = c;
    }
    const c = this.client;
    try {
      if (parts.length === 1) {
        await c.query({ name: 'aristobot_candles_upsert', text: UPSERT, values: parts[0] });
      } else {
        await c.query('BEGIN');
        for (const values of parts) await c.query({ name: 'aristobot_candles_upsert', text: UPSERT, values });
        await c.query('COMMIT');
      }
    } catch (e) {
      // a broken connection or a failed transaction: discard it; the next call opens a new one
      this.client = null;
      c.release(true);
      throw e;
    }
  }

  /** Discard the writer's connection (never returned to the pool with its setting). */
  close(): void {
    this.closed = true;
    this.client?.release(true);
    this.client = null;
  }
}

export class CandleStore {
  constructor(private readonly db: Database) {}

  /**
   * Insert or update candles (idempotent). Within one call a later row for the same key wins. Runs
   * in one transaction unless a client is given (then in the caller's).
   */
  async upsert(rows: readonly CandleRow[], client?: Queryable): Promise<void> {
    const parts = upsertParams(rows);
    if (parts.length === 0) return;
    const run = async (q: Queryable) => {
      for (const values of parts) await q.query(UPSERT, values);
    };
    if (client) await run(client);
    else if (parts.length === 1) await run(this.db.pool);
    else await this.db.tx(run);
  }

  /**
   * A writer for the live path: its own connection, with `synchronous_commit = off` (a commit does
   * not wait for the WAL flush: the latency of a write drops from a disk flush to a round trip).
   * Candles are derived data: if the machine crashes, the last few hundred milliseconds of them may
   * be lost, and the next start backfills them from the exchange like any other gap. The setting
   * never reaches other connections: the writer's connection is discarded, not returned to the pool.
   */
  writer(): CandleWriter {
    return new CandleWriter(this.db);
  }

  /** Candles oldest first (see `CandleQuery` for the window and limit). */
  async query(q: CandleQuery): Promise<StoredCandle[]> {
    const limit = Math.max(1, Math.min(MAX_QUERY_LIMIT, Math.floor(q.limit ?? DEFAULT_QUERY_LIMIT)));
    const params: unknown[] = [q.exchange, q.symbol, q.timeframe];
    let where = 'exchange = $1 AND symbol = $2 AND timeframe = $3';
    if (q.from !== undefined) {
      params.push(Math.floor(q.from));
      where += ` AND open_time >= ${ts(`$${params.length}`)}`;
    }
    if (q.to !== undefined) {
      params.push(Math.floor(q.to));
      where += ` AND open_time < ${ts(`$${params.length}`)}`;
    }
    params.push(limit);
    const cols = `${ms('open_time')} AS "openTime", open::text AS open, high::text AS high, low::text AS low, close::text AS close, volume::text AS volume`;
    const sql =
      q.from !== undefined
        ? `SELECT ${cols} FROM candles WHERE ${where} ORDER BY open_time ASC LIMIT $${params.length}`
        : `SELECT * FROM (SELECT ${cols}, open_time FROM candles WHERE ${where} ORDER BY open_time DESC LIMIT $${params.length}) x ORDER BY open_time ASC`;
    const { rows } = await this.db.query<StoredCandle & { open_time?: Date }>(sql, params);
    return rows.map((r) => ({ openTime: r.openTime, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
  }

  /** Stored 1m candles with open time in [from, to), oldest first, as Decimals (no limit). */
  async minuteCandles(exchange: string, symbol: string, from: number, to: number): Promise<MinuteCandle[]> {
    const { rows } = await this.db.query<MinuteCandle>(
      `SELECT ${ms('open_time')} AS "openTime", open, high, low, close, volume FROM candles
        WHERE exchange = $1 AND symbol = $2 AND timeframe = '1m' AND open_time >= ${ts('$3')} AND open_time < ${ts('$4')}
        ORDER BY open_time`,
      [exchange, symbol, Math.floor(from), Math.floor(to)],
    );
    return rows;
  }

  /** Open time (ms) of the last stored 1m candle, or null. */
  async lastMinute(exchange: string, symbol: string): Promise<number | null> {
    const { rows } = await this.db.query<{ t: number | null }>(`SELECT ${ms('max(open_time)')} AS t FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = '1m'`, [exchange, symbol]);
    return rows[0]?.t ?? null;
  }

  /**
   * The 1m open times missing in [from, to) (both floored to the minute), as ranges [from, to),
   * oldest first.
   */
  async missingMinutes(exchange: string, symbol: string, from: number, to: number): Promise<MinuteRange[]> {
    const a = Math.floor(from / MINUTE_MS) * MINUTE_MS;
    const b = Math.floor(to / MINUTE_MS) * MINUTE_MS;
    if (b <= a) return [];
    const { rows } = await this.db.query<{ from: number; to: number }>(
      `SELECT ${ms('prev')} + 60000 AS "from", ${ms('t')} AS "to"
         FROM (SELECT t, lag(t) OVER (ORDER BY t) AS prev
                 FROM (SELECT ${ts('$3')} - interval '1 minute' AS t
                       UNION ALL
                       SELECT open_time FROM candles
                        WHERE exchange = $1 AND symbol = $2 AND timeframe = '1m'
                          AND open_time >= ${ts('$3')} AND open_time < ${ts('$4')}
                       UNION ALL
                       SELECT ${ts('$4')}) s) x
        WHERE t - prev > interval '1 minute'
        ORDER BY t`,
      [exchange, symbol, a, b],
    );
    return rows.map((r) => ({ from: r.from, to: r.to }));
  }
}
