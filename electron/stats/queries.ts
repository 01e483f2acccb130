import Decimal from 'decimal.js';
import { AppError } from '../../shared/errors';
import { translate, type MessageKey } from '../../shared/i18n';
import type { Database, Queryable } from '../db/database';
import type { ExchangeGateway } from '../exchanges/gateway';
import { currentSandbox } from '../trading/mode';
import type { Broker } from '../exchanges/brokers';
import type { StatsService } from './service';

/**
 * The statistics read side: PostgreSQL groups the materialised trades, lots and snapshots; the
 * figures follow the backtest's definitions (electron/backtest/metrics.ts): a win is a trade with
 * P&L > 0, win rate = wins / trades × 100, average win / loss and best / worst over the trades'
 * returns (P&L / cost × 100) and amounts, profit factor = Σ winning returns / |Σ losing returns|,
 * max drawdown = the deepest fall of the equity from its running peak — here the time-weighted,
 * deposit-neutral equity index, so a deposit is neither a gain nor a recovery.
 */

export type PeriodInput = 'today' | '7d' | '30d' | '90d' | 'year' | 'all' | { from: string; to: string };
export interface Filter {
  period: PeriodInput;
  brokerId?: string;
}
type Interval = 'hour' | 'day' | 'week';

const DAY = 86_400_000;
const D = Decimal.clone({ precision: 40 });
/** Amounts go out exact (as the ledger stored them); computed ratios are rounded to 12 decimals. */
const s = (x: Decimal | null | undefined): string | null => (x === null || x === undefined ? null : x.toFixed());
const s0 = (x: Decimal): string => x.toFixed();
const r12 = (x: { toFixed(): string }): string => new Decimal(x.toFixed()).toDecimalPlaces(12).toFixed();

export function resolvePeriod(p: PeriodInput, now = new Date()): { from: Date | null; to: Date } {
  if (typeof p === 'object') {
    const from = new Date(p.from);
    const to = new Date(p.to);
    if (!(to > from)) throw new AppError('invalid_input', 'errors.stats.endCustomPeriodMust', {}, { field: 'period.to' });
    return { from, to };
  }
  const days = { '7d': 7, '30d': 30, '90d': 90, year: 365 } as const;
  if (p === 'all') return { from: null, to: now };
  if (p === 'today') return { from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())), to: now };
  return { from: new Date(now.getTime() - days[p] * DAY), to: now };
}

interface FigRow {
  key: string | null;
  source: string | null;
  label: string | null;
  trades: number;
  wins: number;
  losses: number;
  realised: Decimal | null;
  fees: Decimal | null;
  win_pct_sum: Decimal | null;
  loss_pct_sum: Decimal | null;
  avg_win: Decimal | null;
  avg_loss: Decimal | null;
  avg_win_pct: Decimal | null;
  avg_loss_pct: Decimal | null;
  best: Decimal | null;
  worst: Decimal | null;
  best_pct: Decimal | null;
  worst_pct: Decimal | null;
  unmatched: number;
}

const FIGURES_SQL = `count(*)::int AS trades, count(*) FILTER (WHERE t.pnl > 0)::int AS wins, count(*) FILTER (WHERE t.pnl < 0)::int AS losses,
  sum(t.pnl_value) AS realised, sum(t.fees_value) AS fees,
  sum(t.pnl_pct) FILTER (WHERE t.pnl_pct > 0) AS win_pct_sum, sum(t.pnl_pct) FILTER (WHERE t.pnl_pct < 0) AS loss_pct_sum,
  avg(t.pnl_value) FILTER (WHERE t.pnl > 0) AS avg_win, avg(t.pnl_value) FILTER (WHERE t.pnl < 0) AS avg_loss,
  avg(t.pnl_pct) FILTER (WHERE t.pnl_pct > 0) AS avg_win_pct, avg(t.pnl_pct) FILTER (WHERE t.pnl_pct < 0) AS avg_loss_pct,
  max(t.pnl_value) AS best, min(t.pnl_value) AS worst, max(t.pnl_pct) AS best_pct, min(t.pnl_pct) AS worst_pct,
  count(*) FILTER (WHERE t.unmatched > 0)::int AS unmatched`;

function figures(r: FigRow | undefined, unrealised: Decimal | null) {
  const n = r?.trades ?? 0;
  const loss = r?.loss_pct_sum ?? null;
  return {
    trades: n,
    wins: r?.wins ?? 0,
    losses: r?.losses ?? 0,
    realisedPnl: s0(r?.realised ?? new Decimal(0)),
    fees: s0(r?.fees ?? new Decimal(0)),
    winRatePct: n ? r12(new D(r!.wins).times(100).div(n)) : null,
    profitFactor: loss && !loss.isZero() ? r12(new D((r?.win_pct_sum ?? new Decimal(0)).toFixed()).div(loss.abs().toFixed())) : null,
    avgWin: s(r?.avg_win),
    avgLoss: s(r?.avg_loss),
    avgWinPct: s(r?.avg_win_pct),
    avgLossPct: s(r?.avg_loss_pct),
    bestTrade: s(r?.best),
    worstTrade: s(r?.worst),
    bestTradePct: s(r?.best_pct),
    worstTradePct: s(r?.worst_pct),
    unrealisedPnl: s(unrealised),
  };
}

interface Scope {
  currency: string;
  from: Date | null;
  to: Date;
  brokers: Broker[];
  ids: string[];
  modes: boolean[];
}

type Missing = { brokerId: string | null; asset: string; reason: string; reasonKey?: MessageKey; reasonParams?: Record<string, string | number> };

/** A gap in the figures, worded from the catalogue (English in `reason`, the key for the renderer). */
function gap(brokerId: string | null, asset: string, reasonKey: MessageKey, reasonParams: Record<string, string | number>): Missing {
  return { brokerId, asset, reason: translate('en', reasonKey, reasonParams), reasonKey, reasonParams };
}

export class StatsQueries {
  constructor(private readonly o: { db: Database; brokers: { list(profileId: string): Promise<Broker[]> }; gateway: Pick<ExchangeGateway, 'info'>; stats: Pick<StatsService, 'currency'> }) {}

  /** The brokers asked for (each in its current mode) and the period; an unknown broker → invalid_input. */
  private async scope(profileId: string, f: Filter): Promise<Scope> {
    const { from, to } = resolvePeriod(f.period);
    const all = await this.o.brokers.list(profileId);
    const brokers = f.brokerId ? all.filter((b) => b.id === f.brokerId) : all;
    if (f.brokerId && !brokers.length) throw new AppError('invalid_input', 'errors.stats.unknownBrokerNoBroker', {}, { field: 'brokerId' });
    const modes: boolean[] = [];
    for (const b of brokers) modes.push(await currentSandbox(this.o.db, this.o.gateway, profileId, b));
    return { currency: await this.o.stats.currency(profileId), from, to, brokers, ids: brokers.map((b) => b.id), modes };
  }

  private tradeWhere(sc: Scope, alias = 't'): { sql: string; params: unknown[] } {
    const params: unknown[] = [sc.ids, sc.modes, sc.to];
    let sql = `(${alias}.broker_id, ${alias}.sandbox) IN (SELECT * FROM unnest($1::uuid[], $2::boolean[])) AND ${alias}.closed_at <= $3`;
    if (sc.from) {
      params.push(sc.from);
      sql += ` AND ${alias}.closed_at >= $${params.length}`;
    }
    return { sql, params };
  }

  /** Unrealised P&L of the open lots at each broker's latest snapshot prices, grouped by `key`. */
  private async unrealised(c: Queryable, sc: Scope, key: 'book' | 'symbol' | null): Promise<{ by: Map<string, Decimal>; total: Decimal | null; missing: Missing[] }> {
    const { rows } = await c.query<{ k: string | null; broker_id: string; base: string; quote: string; value: Decimal | null }>(
      `WITH last AS (
         SELECT s.broker_id, x.balances FROM unnest($1::uuid[], $2::boolean[]) AS s(broker_id, sandbox)
         CROSS JOIN LATERAL (SELECT e.balances FROM equity_snapshots e WHERE e.broker_id = s.broker_id AND e.sandbox = s.sandbox AND e.currency = $3 ORDER BY e.taken_at DESC LIMIT 1) x)
       SELECT ${key ? `l.${key}` : 'NULL'} AS k, l.broker_id, l.base, l.quote,
              sum(l.quantity * ((last.balances -> l.base ->> 'price')::numeric - l.unit_cost)) FILTER (WHERE l.quote = $3) AS value
         FROM stats_lots l LEFT JOIN last ON last.broker_id = l.broker_id
        WHERE (l.broker_id, l.sandbox) IN (SELECT * FROM unnest($1::uuid[], $2::boolean[]))
        GROUP BY 1, 2, 3, 4`,
      [sc.ids, sc.modes, sc.currency],
    );
    const by = new Map<string, Decimal>();
    const missing: Missing[] = [];
    let total: Decimal | null = null;
    for (const r of rows) {
      if (r.value === null) {
        missing.push(r.quote === sc.currency ? gap(r.broker_id, r.base, 'coreRest.stats.lotsUnpriced', { base: r.base, currency: sc.currency }) : gap(r.broker_id, r.base, 'coreRest.stats.lotsOtherQuote', { quote: r.quote, currency: sc.currency }));
        continue;
      }
      by.set(r.k ?? '', (by.get(r.k ?? '') ?? new Decimal(0)).plus(r.value));
      total = (total ?? new Decimal(0)).plus(r.value);
    }
    return { by, total, missing };
  }

  private async unvaluedTrades(c: Queryable, sc: Scope): Promise<Missing[]> {
    const w = this.tradeWhere(sc);
    const { rows } = await c.query<{ broker_id: string; quote: string; n: number }>(`SELECT t.broker_id, t.quote, count(*)::int AS n FROM stats_trades t WHERE ${w.sql} AND t.pnl_value IS NULL GROUP BY 1, 2`, w.params);
    return rows.map((r) => gap(r.broker_id, r.quote, 'stats.gaps.unpriced', { count: Number(r.n), quote: r.quote, currency: sc.currency }));
  }

  async summary(profileId: string, f: Filter) {
    const sc = await this.scope(profileId, f);
    return this.o.db.withProfile(profileId, async (c) => {
      const w = this.tradeWhere(sc);
      const fig = (await c.query<FigRow>(`SELECT ${FIGURES_SQL} FROM stats_trades t WHERE ${w.sql}`, w.params)).rows[0];
      const un = await this.unrealised(c, sc, null);
      const unvalued = await this.unvaluedTrades(c, sc);
      const eq = await this.equityFigures(c, sc);
      const other = await this.otherFees(c, sc);
      return {
        ...figures(fig, un.total),
        currency: sc.currency,
        from: sc.from?.toISOString() ?? null,
        to: sc.to.toISOString(),
        ...eq.figures,
        otherFees: other,
        unmatchedTrades: fig?.unmatched ?? 0,
        missing: [...eq.missing, ...unvalued, ...un.missing],
      };
    });
  }

  /** Fees paid in a third currency within the period, from the fills of the brokers' current mode. */
  private async otherFees(c: Queryable, sc: Scope): Promise<{ currency: string; amount: string }[]> {
    const params: unknown[] = [sc.ids, sc.modes, sc.to];
    let extra = '';
    if (sc.from) {
      params.push(sc.from);
      extra = ` AND f.executed_at >= $4`;
    }
    const { rows } = await c.query<{ cur: string; amount: Decimal }>(
      `SELECT f.fee_currency AS cur, sum(f.fee) AS amount FROM order_fills f
        WHERE (f.broker_id, f.sandbox) IN (SELECT * FROM unnest($1::uuid[], $2::boolean[])) AND f.executed_at <= $3${extra}
          AND f.fee > 0 AND f.fee_currency IS NOT NULL AND f.fee_currency <> split_part(f.symbol, '/', 1) AND f.fee_currency <> split_part(split_part(f.symbol, '/', 2), ':', 1)
        GROUP BY 1 ORDER BY 1`,
      params,
    );
    return rows.map((r) => ({ currency: r.cur, amount: s0(r.amount) }));
  }

  /**
   * Equity at the start (each broker's last snapshot before the period, else its first in it) and the
   * end, the flows found between (Decimal, summed in SQL), and the deposit-neutral (time-weighted)
   * return and max drawdown over every snapshot of the period (a ratio: float64, as the backtest).
   */
  private async equityFigures(c: Queryable, sc: Scope) {
    const missing: Missing[] = [];
    const { rows: ends } = await c.query<{ broker_id: string; start_at: Date | null; start_value: Decimal | null; end_at: Date | null; end_value: Decimal | null; missing: string[] | null; flows: Decimal | null }>(
      `SELECT s.broker_id, st.taken_at AS start_at, st.value AS start_value, en.taken_at AS end_at, en.value AS end_value, en.missing,
              (SELECT sum(e.flow_value) FROM equity_snapshots e WHERE e.broker_id = s.broker_id AND e.sandbox = s.sandbox AND e.currency = $3 AND e.taken_at > st.taken_at AND e.taken_at <= en.taken_at) AS flows
         FROM unnest($1::uuid[], $2::boolean[]) AS s(broker_id, sandbox)
         LEFT JOIN LATERAL (SELECT e.taken_at, e.value, e.missing FROM equity_snapshots e WHERE e.broker_id = s.broker_id AND e.sandbox = s.sandbox AND e.currency = $3 AND e.taken_at <= $4 ORDER BY e.taken_at DESC LIMIT 1) en ON true
         LEFT JOIN LATERAL (SELECT * FROM (
             (SELECT e.taken_at, e.value FROM equity_snapshots e WHERE e.broker_id = s.broker_id AND e.sandbox = s.sandbox AND e.currency = $3 AND $5::timestamptz IS NOT NULL AND e.taken_at < $5 ORDER BY e.taken_at DESC LIMIT 1)
             UNION ALL
             (SELECT e.taken_at, e.value FROM equity_snapshots e WHERE e.broker_id = s.broker_id AND e.sandbox = s.sandbox AND e.currency = $3 AND ($5::timestamptz IS NULL OR e.taken_at >= $5) AND e.taken_at <= $4 ORDER BY e.taken_at LIMIT 1)
           ) y ORDER BY taken_at LIMIT 1) st ON true`,
      [sc.ids, sc.modes, sc.currency, sc.to, sc.from],
    );
    for (const r of ends) for (const a of r.missing ?? []) missing.push(gap(r.broker_id, a, 'coreRest.stats.assetUnpriced', { asset: a, currency: sc.currency }));
    for (const b of sc.brokers) if (!ends.some((r) => r.broker_id === b.id && r.end_at)) missing.push(gap(b.id, '*', 'stats.gaps.noSnapshot', { broker: b.name, currency: sc.currency }));
    const snapshotAt = ends.reduce<Date | null>((m, r) => (r.end_at && (!m || r.end_at > m) ? r.end_at : m), null);
    const present = ends.filter((r) => r.end_at && r.start_at);
    if (!present.length) return { figures: { equityStart: null, equityEnd: null, netFlows: '0', equityPnl: null, returnPct: null, maxDrawdownPct: null, snapshotAt: snapshotAt?.toISOString() ?? null }, missing };
    const start = present.reduce((x, r) => x.plus(r.start_value!), new Decimal(0));
    const end = present.reduce((x, r) => x.plus(r.end_value!), new Decimal(0));
    const flows = present.reduce((x, r) => x.plus(r.flows ?? 0), new Decimal(0));
    // the index: every snapshot from each broker's start on, brokers carried forward
    const { rows } = await c.query<{ b: number; v: number; f: number }>(
      `SELECT array_position($1::uuid[], e.broker_id) AS b, e.value::float8 AS v, e.flow_value::float8 AS f
         FROM equity_snapshots e JOIN unnest($1::uuid[], $2::boolean[], $5::timestamptz[]) AS s(broker_id, sandbox, start_at) ON e.broker_id = s.broker_id AND e.sandbox = s.sandbox
        WHERE e.currency = $3 AND e.taken_at >= s.start_at AND e.taken_at <= $4
        ORDER BY e.taken_at, e.id`,
      [present.map((r) => r.broker_id), present.map((r) => sc.modes[sc.ids.indexOf(r.broker_id)]), sc.currency, sc.to, present.map((r) => r.start_at)],
    );
    const cur = new Map<number, number>();
    let total = 0;
    let index = 1;
    let peak = 1;
    let dd = 0;
    for (const r of rows) {
      const prev = cur.get(r.b);
      const before = total;
      total += r.v - (prev ?? 0);
      cur.set(r.b, r.v);
      if (prev === undefined || before <= 0) continue;
      index *= (total - r.f) / before;
      if (index > peak) peak = index;
      dd = Math.min(dd, index / peak - 1);
    }
    return {
      figures: {
        equityStart: s0(start),
        equityEnd: s0(end),
        netFlows: s0(flows),
        equityPnl: s0(end.minus(start).minus(flows)),
        returnPct: Number.isFinite(index) ? r12(new Decimal((index - 1) * 100)) : null,
        maxDrawdownPct: r12(new Decimal(dd < 0 ? dd * 100 : 0)),
        snapshotAt: snapshotAt?.toISOString() ?? null,
      },
      missing,
    };
  }

  /**
   * Equity per interval bucket: each broker's last snapshot in the bucket (carried forward through
   * buckets without one), flows found in the bucket; the total sums the brokers that have a value.
   */
  private async series(c: Queryable, sc: Scope, interval: Interval) {
    type P = { time: Date; value: Decimal; flows: Decimal };
    const { rows } = await c.query<{ broker_id: string; t: Date; value: Decimal; flows: Decimal }>(
      `SELECT DISTINCT ON (e.broker_id, date_trunc($4, e.taken_at, 'UTC')) e.broker_id, date_trunc($4, e.taken_at, 'UTC') AS t, e.value,
              sum(e.flow_value) OVER (PARTITION BY e.broker_id, date_trunc($4, e.taken_at, 'UTC')) AS flows
         FROM equity_snapshots e JOIN unnest($1::uuid[], $2::boolean[]) AS s(broker_id, sandbox) ON e.broker_id = s.broker_id AND e.sandbox = s.sandbox
        WHERE e.currency = $3 AND e.taken_at <= $5 AND ($6::timestamptz IS NULL OR e.taken_at >= $6)
        ORDER BY e.broker_id, date_trunc($4, e.taken_at, 'UTC'), e.taken_at DESC, e.id DESC`,
      [sc.ids, sc.modes, sc.currency, interval, sc.to, sc.from],
    );
    const per = new Map<string, P[]>();
    for (const r of rows) {
      const list = per.get(r.broker_id) ?? [];
      list.push({ time: r.t, value: r.value, flows: r.flows });
      per.set(r.broker_id, list);
    }
    const times = [...new Set(rows.map((r) => r.t.getTime()))].sort((a, b) => a - b);
    const total: P[] = [];
    const cursor = new Map<string, number>();
    for (const t of times) {
      let value = new Decimal(0);
      let flows = new Decimal(0);
      for (const [b, list] of per) {
        let k = cursor.get(b) ?? -1;
        while (k + 1 < list.length && list[k + 1]!.time.getTime() <= t) k++;
        cursor.set(b, k);
        if (k < 0) continue;
        value = value.plus(list[k]!.value);
        if (list[k]!.time.getTime() === t) flows = flows.plus(list[k]!.flows);
      }
      total.push({ time: new Date(t), value, flows });
    }
    return { total, per };
  }

  async equity(profileId: string, f: Filter & { interval: Interval }) {
    const sc = await this.scope(profileId, f);
    return this.o.db.withProfile(profileId, async (c) => {
      const interval = capInterval(sc, f.interval);
      const { total, per } = await this.series(c, sc, interval);
      const pt = (p: { time: Date; value: Decimal; flows: Decimal }) => ({ time: p.time.toISOString(), value: s0(p.value), flows: s0(p.flows) });
      const params: unknown[] = [sc.ids, sc.modes, sc.to];
      if (sc.from) params.push(sc.from);
      const flows = await c.query<{ at: Date; broker_id: string; asset: string; amount: Decimal; value: Decimal | null; origin: 'balance' | 'exchange' }>(
        `SELECT at, broker_id, asset, amount, value, origin FROM stats_flows WHERE (broker_id, sandbox) IN (SELECT * FROM unnest($1::uuid[], $2::boolean[])) AND at <= $3 ${sc.from ? 'AND at >= $4' : ''} ORDER BY at`,
        params,
      );
      const w = this.tradeWhere(sc);
      const daily = await c.query<{ day: Date; pnl: Decimal | null; n: number }>(
        `SELECT date_trunc('day', t.closed_at, 'UTC') AS day, sum(t.pnl_value) AS pnl, count(*)::int AS n FROM stats_trades t WHERE ${w.sql} GROUP BY 1 ORDER BY 1`,
        w.params,
      );
      const eq = await this.equityFigures(c, sc);
      return {
        currency: sc.currency,
        interval,
        total: total.map(pt),
        brokers: sc.brokers.filter((b) => per.has(b.id)).map((b) => ({ brokerId: b.id, name: b.name, points: per.get(b.id)!.map(pt) })),
        flows: flows.rows.map((r) => ({ time: r.at.toISOString(), brokerId: r.broker_id, asset: r.asset, amount: s0(r.amount), value: s(r.value), origin: r.origin })),
        daily: daily.rows.map((r) => ({ day: r.day.toISOString().slice(0, 10), pnl: s0(r.pnl ?? new Decimal(0)), trades: r.n })),
        missing: eq.missing,
      };
    });
  }

  async breakdown(profileId: string, f: Filter, by: 'book' | 'symbol') {
    const sc = await this.scope(profileId, f);
    return this.o.db.withProfile(profileId, async (c) => {
      const w = this.tradeWhere(sc);
      const keyCols = by === 'book' ? 't.book AS key, min(t.source) AS source, min(t.book_label) AS label' : 't.symbol AS key, NULL AS source, t.symbol AS label';
      const rows = (await c.query<FigRow>(`SELECT ${keyCols}, ${FIGURES_SQL} FROM stats_trades t WHERE ${w.sql} GROUP BY t.${by === 'book' ? 'book' : 'symbol'} ORDER BY sum(t.pnl_value) DESC NULLS LAST, 1`, w.params)).rows;
      const total = (await c.query<FigRow>(`SELECT ${FIGURES_SQL} FROM stats_trades t WHERE ${w.sql}`, w.params)).rows[0];
      const un = await this.unrealised(c, sc, by);
      const out = rows.map((r) => ({ key: r.key!, source: (r.source as 'manual' | null) ?? null, label: r.label ?? r.key!, ...figures(r, un.by.get(r.key!) ?? null) }));
      // books / markets with open lots but no trade closed in the period
      const labels = by === 'book' ? await c.query<{ book: string; source: string; label: string }>(`SELECT DISTINCT book, source, book_label AS label FROM stats_lots WHERE (broker_id, sandbox) IN (SELECT * FROM unnest($1::uuid[], $2::boolean[]))`, [sc.ids, sc.modes]) : null;
      for (const [k, v] of un.by) {
        if (out.some((r) => r.key === k)) continue;
        const l = labels?.rows.find((x) => x.book === k);
        out.push({ key: k, source: (l?.source as 'manual' | undefined) ?? null, label: l?.label ?? k, ...figures(undefined, v) });
      }
      return { currency: sc.currency, rows: out, total: figures(total, un.total), missing: [...(await this.unvaluedTrades(c, sc)), ...un.missing] };
    });
  }

  async trades(profileId: string, f: Filter & { source?: string; symbol?: string; limit?: number }) {
    const sc = await this.scope(profileId, f);
    return this.o.db.withProfile(profileId, async (c) => {
      const w = this.tradeWhere(sc);
      const params = [...w.params];
      let sql = w.sql;
      if (f.source) {
        params.push(f.source);
        sql += f.source.includes(':') || f.source === 'manual' || f.source === 'external' ? ` AND t.book = $${params.length}` : ` AND t.source = $${params.length}`;
      }
      if (f.symbol) {
        params.push(f.symbol);
        sql += ` AND t.symbol = $${params.length}`;
      }
      const total = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM stats_trades t WHERE ${sql}`, params)).rows[0]!.n;
      params.push(f.limit ?? 2000);
      const { rows } = await c.query<TradeRow>(`SELECT t.id, t.broker_id, t.symbol, t.quote, t.source, t.book, t.book_label, t.opened_at, t.closed_at, ${TEXT_COLUMNS} FROM stats_trades t WHERE ${sql} ORDER BY t.closed_at DESC, t.key LIMIT $${params.length}`, params);
      return { currency: sc.currency, total, trades: rows.map(tradeDto) };
    });
  }

  async exportCsv(profileId: string, f: Filter) {
    const { trades, currency } = await this.trades(profileId, { ...f, limit: 1_000_000 });
    const sc = await this.scope(profileId, f);
    const names = new Map(sc.brokers.map((b) => [b.id, b.name]));
    const head = ['closed_at', 'opened_at', 'broker', 'symbol', 'source', 'book', 'amount', 'entry_price', 'exit_price', 'fees_quote', 'quote', 'pnl_quote', 'pnl_pct', `pnl_${currency}`, 'from_opening', 'unmatched'];
    const lines = [head.join(',')];
    for (const t of [...trades].reverse()) {
      lines.push([t.closedAt, t.openedAt, names.get(t.brokerId) ?? t.brokerId, t.symbol, t.source, t.label, t.amount, t.entryPrice, t.exitPrice, t.fees, t.quote, t.pnl, t.pnlPct ?? '', t.pnlValue ?? '', t.fromOpening, t.unmatched].map(csvCell).join(','));
    }
    const label = typeof f.period === 'string' ? f.period : `${f.period.from.slice(0, 10)}_${f.period.to.slice(0, 10)}`;
    return { filename: `aristobot-trades-${label}.csv`, csv: `${lines.join('\r\n')}\r\n` };
  }
}

/** Amount columns read as text: exact, and no Decimal built only to be printed again. */
const TEXT_COLUMNS = ['amount', 'entry_price', 'exit_price', 'fees', 'pnl', 'pnl_pct', 'pnl_value', 'from_opening', 'unmatched'].map((c) => `t.${c}::text AS ${c}`).join(', ');

interface TradeRow {
  id: string;
  broker_id: string;
  symbol: string;
  quote: string;
  source: 'manual';
  book: string;
  book_label: string;
  opened_at: Date;
  closed_at: Date;
  amount: string;
  entry_price: string;
  exit_price: string;
  fees: string;
  pnl: string;
  pnl_pct: string | null;
  pnl_value: string | null;
  from_opening: string;
  unmatched: string;
}

function tradeDto(r: TradeRow) {
  return {
    id: r.id,
    brokerId: r.broker_id,
    symbol: r.symbol,
    quote: r.quote,
    source: r.source,
    book: r.book,
    label: r.book_label,
    openedAt: r.opened_at.toISOString(),
    closedAt: r.closed_at.toISOString(),
    amount: r.amount,
    entryPrice: r.entry_price,
    exitPrice: r.exit_price,
    fees: r.fees,
    pnl: r.pnl,
    pnlPct: r.pnl_pct === null ? null : r12(new Decimal(r.pnl_pct)),
    pnlValue: r.pnl_value,
    fromOpening: r.from_opening,
    unmatched: r.unmatched,
  };
}

/** RFC 4180 quoting; a cell starting with = + - @ that is not a number is prefixed (spreadsheet formulas). */
function csvCell(v: string): string {
  let x = v;
  if (/^[=+\-@]/.test(x) && !/^-?\d+(\.\d+)?$/.test(x)) x = `'${x}`;
  return /[",\r\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
}

/** At most ~10 000 points: a long period asked hourly is answered daily. */
function capInterval(sc: Scope, i: Interval): Interval {
  if (i !== 'hour') return i;
  const span = sc.to.getTime() - (sc.from?.getTime() ?? sc.to.getTime() - 400 * DAY);
  return span / 3_600_000 > 10_000 ? 'day' : 'hour';
}
