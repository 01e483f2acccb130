import Decimal from 'decimal.js';
import type { Exchange, Market } from 'ccxt';
import { AppError } from '../../shared/errors';
import type { Database } from '../db/database';
import type { EventBus } from '../events';
import type { Logger } from '../log';
import type { BrokerService } from './brokers';
import type { ExchangeGateway } from './gateway';

const TICK_SIZE = 4;
const DECIMAL_PLACES = 2;
const BATCH = 500;

export interface MarketRecord {
  exchange: string;
  symbol: string;
  exchangeSymbol: string;
  base: string;
  quote: string;
  type: string;
  active: boolean;
  precision: { price: string | null; amount: string | null };
  limits: { amount: { min: string | null; max: string | null }; cost: { min: string | null; max: string | null }; price: { min: string | null; max: string | null } };
  fees: { maker: string | null; taker: string | null };
}

export type Progress = { exchange: string; brokerId: string; phase: 'fetching' | 'storing' | 'done' | 'failed' | 'cancelled'; percent: number; count: number | null; message: string | null };

const num = (v: unknown): string | null => (v === undefined || v === null || Number.isNaN(v) ? null : new Decimal(String(v)).toFixed());

/** A CCXT precision value as a step size, whatever the exchange's precision mode. */
export function toStep(v: unknown, mode: number): string | null {
  if (v === undefined || v === null) return null;
  if (mode === TICK_SIZE) return num(v);
  if (mode === DECIMAL_PLACES) return new Decimal(10).pow(-Number(v)).toFixed();
  return null; // significant digits: no fixed step
}

export function marketRecord(exchange: string, m: NonNullable<Market>, precisionMode: number): MarketRecord {
  return {
    exchange,
    symbol: m.symbol,
    exchangeSymbol: String(m.id),
    base: String(m.base),
    quote: String(m.quote),
    type: String(m.type ?? 'spot'),
    active: m.active !== false,
    precision: { price: toStep(m.precision?.price, precisionMode), amount: toStep(m.precision?.amount, precisionMode) },
    limits: {
      amount: { min: num(m.limits?.amount?.min), max: num(m.limits?.amount?.max) },
      cost: { min: num(m.limits?.cost?.min), max: num(m.limits?.cost?.max) },
      price: { min: num(m.limits?.price?.min), max: num(m.limits?.price?.max) },
    },
    fees: { maker: num(m.maker), taker: num(m.taker) },
  };
}

interface Row {
  exchange: string; symbol: string; exchange_symbol: string; base: string; quote: string; type: string; active: boolean;
  price_step: Decimal | null; amount_step: Decimal | null; min_amount: Decimal | null; max_amount: Decimal | null; min_cost: Decimal | null; max_cost: Decimal | null;
  min_price: Decimal | null; max_price: Decimal | null; maker: Decimal | null; taker: Decimal | null;
}
const s = (d: Decimal | null) => (d === null ? null : d.toFixed());
const fromRow = (r: Row): MarketRecord => ({
  exchange: r.exchange,
  symbol: r.symbol,
  exchangeSymbol: r.exchange_symbol,
  base: r.base,
  quote: r.quote,
  type: r.type,
  active: r.active,
  precision: { price: s(r.price_step), amount: s(r.amount_step) },
  limits: { amount: { min: s(r.min_amount), max: s(r.max_amount) }, cost: { min: s(r.min_cost), max: s(r.max_cost) }, price: { min: s(r.min_price), max: s(r.max_price) } },
  fees: { maker: s(r.maker), taker: s(r.taker) },
});

/**
 * Markets of each exchange, shared by all profiles. An update loads them through a broker's CCXT
 * instance in the background and replaces the exchange's rows in ONE transaction: readers see the
 * old set or the new one, never an empty or half table. Cancelling rolls back: the old set stays.
 */
export class MarketService {
  private readonly running = new Map<string, { cancelled: boolean; profileId: string; progress: Progress; done: Promise<void> }>();

  constructor(
    private readonly db: Database,
    private readonly brokers: BrokerService,
    private readonly gateway: ExchangeGateway,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /** Progress goes to the profile that started the update (it names that profile's broker). */
  private emit(job: { progress: Progress; profileId: string }, patch: Partial<Progress>): void {
    job.progress = { ...job.progress, ...patch };
    this.bus.emit('markets.progress', job.progress, { profileId: job.profileId });
  }

  /** Wait for running updates to end (app stop): each is cancelled, its transaction rolled back. */
  async stop(): Promise<void> {
    for (const j of this.running.values()) j.cancelled = true;
    await Promise.allSettled([...this.running.values()].map((j) => j.done));
  }

  /** Start an update in the background; `done` resolves when it ends (for tests and scripts). */
  async update(profileId: string, brokerId: string): Promise<{ started: boolean; exchange: string; done: Promise<void> }> {
    const broker = await this.brokers.get(profileId, brokerId);
    // Markets are public and shared by every profile: load the live exchange's, without keys, so a
    // testnet broker (or a profile's testnet mode) never replaces them with a sandbox's list.
    const ex = this.gateway.create(broker.exchange, {}, false);
    const existing = this.running.get(broker.exchange);
    if (existing) return { started: false, exchange: broker.exchange, done: existing.done };
    const job = { cancelled: false, profileId, progress: { exchange: broker.exchange, brokerId, phase: 'fetching', percent: 0, count: null, message: null } as Progress, done: Promise.resolve() };
    this.running.set(broker.exchange, job);
    job.done = this.runUpdate(ex, job).finally(() => this.running.delete(broker.exchange));
    return { started: true, exchange: broker.exchange, done: job.done };
  }

  private async runUpdate(ex: Exchange, job: { cancelled: boolean; profileId: string; progress: Progress }): Promise<void> {
    const exchange = job.progress.exchange;
    const t0 = Date.now();
    this.emit(job, { phase: 'fetching', percent: 2 });
    try {
      const markets = await this.gateway.loadMarkets(ex, { reload: true });
      if (job.cancelled) throw new AppError('cancelled', 'errors.exchanges.cancelled');
      const records = Object.values(markets).filter((m): m is NonNullable<Market> => !!m).map((m) => marketRecord(exchange, m, Number(ex.precisionMode)));
      this.emit(job, { phase: 'storing', percent: 40, count: records.length });
      const client = await this.db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('DELETE FROM exchange_symbols WHERE exchange = $1', [exchange]);
        for (let i = 0; i < records.length; i += BATCH) {
          if (job.cancelled) throw new AppError('cancelled', 'errors.exchanges.cancelled');
          await insertBatch(client, records.slice(i, i + BATCH));
          this.emit(job, { percent: Math.min(99, 40 + Math.round((60 * (i + BATCH)) / Math.max(records.length, 1))) });
        }
        await client.query(
          'INSERT INTO exchange_market_loads (exchange, count, loaded_at, duration_ms) VALUES ($1, $2, now(), $3) ON CONFLICT (exchange) DO UPDATE SET count = EXCLUDED.count, loaded_at = EXCLUDED.loaded_at, duration_ms = EXCLUDED.duration_ms',
          [exchange, records.length, Date.now() - t0],
        );
        if (job.cancelled) throw new AppError('cancelled', 'errors.exchanges.cancelled');
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
      this.emit(job, { phase: 'done', percent: 100, count: records.length, message: `${records.length} markets` });
      this.log.info({ exchange, count: records.length, ms: Date.now() - t0 }, 'markets updated');
    } catch (e) {
      if (e instanceof AppError && e.code === 'cancelled') {
        this.emit(job, { phase: 'cancelled', message: 'Cancelled; the previous markets are kept.' });
        this.log.info({ exchange }, 'markets update cancelled');
      } else {
        this.emit(job, { phase: 'failed', message: e instanceof Error ? e.message : String(e) });
        this.log.warn({ exchange, err: (e as Error).message }, 'markets update failed');
      }
    }
  }

  /** Cancel the update of an exchange (only the profile that started it may). */
  cancel(exchange: string, profileId?: string): boolean {
    const job = this.running.get(exchange);
    if (!job || (profileId !== undefined && job.profileId !== profileId)) return false;
    job.cancelled = true;
    return true;
  }

  async list(q: { exchange: string; quote?: string; search?: string; limit: number; offset: number }): Promise<{ total: number; markets: MarketRecord[] }> {
    const where = ['exchange = $1'];
    const params: unknown[] = [q.exchange];
    if (q.quote) {
      params.push(q.quote.toUpperCase());
      where.push(`quote = $${params.length}`);
    }
    if (q.search) {
      params.push(`%${q.search.replace(/[\\%_]/g, (c) => '\\' + c).toUpperCase()}%`);
      where.push(`(upper(symbol) LIKE $${params.length} OR upper(exchange_symbol) LIKE $${params.length})`);
    }
    const w = where.join(' AND ');
    const total = (await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM exchange_symbols WHERE ${w}`, params)).rows[0]!.n;
    params.push(q.limit, q.offset);
    const { rows } = await this.db.query<Row>(`SELECT * FROM exchange_symbols WHERE ${w} ORDER BY symbol LIMIT $${params.length - 1} OFFSET $${params.length}`, params);
    return { total, markets: rows.map(fromRow) };
  }

  async get(exchange: string, symbol: string): Promise<MarketRecord | null> {
    const { rows } = await this.db.query<Row>('SELECT * FROM exchange_symbols WHERE exchange = $1 AND symbol = $2', [exchange, symbol]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Stored markets per exchange (public facts) and the updates in progress. Without a logged-in
   * profile (`null`) no update is shown; a profile sees another profile's update only as "this
   * exchange is being updated" (no broker id, no message: those are the other profile's).
   */
  async summary(profileId: string | null = null): Promise<{ exchanges: { exchange: string; count: number; loadedAt: string }[]; loading: Progress[] }> {
    const { rows } = await this.db.query<{ exchange: string; count: number; loaded_at: Date }>('SELECT exchange, count, loaded_at FROM exchange_market_loads ORDER BY exchange');
    const loading = profileId === null ? [] : [...this.running.values()].map((j) => (j.profileId === profileId ? { ...j.progress } : { ...j.progress, brokerId: '', message: null }));
    return { exchanges: rows.map((r) => ({ exchange: r.exchange, count: r.count, loadedAt: r.loaded_at.toISOString() })), loading };
  }
}

async function insertBatch(client: { query: (sql: string, params: unknown[]) => Promise<unknown> }, batch: MarketRecord[]): Promise<void> {
  if (!batch.length) return;
  const cols = 17;
  const values: unknown[] = [];
  const tuples = batch.map((m, i) => {
    values.push(m.exchange, m.symbol, m.exchangeSymbol, m.base, m.quote, m.type, m.active, m.precision.price, m.precision.amount, m.limits.amount.min, m.limits.amount.max, m.limits.cost.min, m.limits.cost.max, m.limits.price.min, m.limits.price.max, m.fees.maker, m.fees.taker);
    return `(${Array.from({ length: cols }, (_, k) => `$${i * cols + k + 1}`).join(',')})`;
  });
  await client.query(
    `INSERT INTO exchange_symbols (exchange, symbol, exchange_symbol, base, quote, type, active, price_step, amount_step, min_amount, max_amount, min_cost, max_cost, min_price, max_price, maker, taker)
     VALUES ${tuples.join(',')} ON CONFLICT (exchange, symbol) DO UPDATE SET exchange_symbol = EXCLUDED.exchange_symbol, updated_at = now()`,
    values,
  );
}
