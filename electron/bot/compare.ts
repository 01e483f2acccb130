import Decimal from 'decimal.js';
import type { Exchange } from 'ccxt';
import { AppError } from '../../shared/errors';
import type { Params } from '../../shared/i18n';
import { timeframeMs, type Timeframe } from '../../shared/timeframes';
import type { Database } from '../db/database';
import type { Columns, SimConfig, SimResult } from '../kernel/types';
import { saidAs, say, type Said } from './text';

/**
 * Live versus backtest: the backtest of the activation's version over exactly the candles it decided
 * on (its first to its last signal, with the strategy's warmup before), side by side with its
 * decisions journal and its trades.
 *
 * - Decisions, per candle: matched (same action), different, missed (the backtest acted, live did
 *   not), late (live took the backtest's action up to 3 candles later), extra (live acted, the
 *   backtest did not), refused (live decided but the order was refused or failed).
 * - Trades, paired by their entry candle: entry and exit price gaps, amount, fee and P&L gaps.
 * - The P&L gap (live closed trades − backtest closed trades) explained line by line — per pair:
 *   prices, size, fees and the backtest's float64 rounding; the unpaired trades of either side — and
 *   the lines add up to the gap exactly (Decimal).
 *
 * The backtest fills at the decision candle's close (the bot orders right after the close) with the
 * market's taker fee and step, no slippage: every difference from that is what live trading cost.
 */

const LATE_WINDOW = 3;

export interface CompareDeps {
  db: Database;
  strategies: { getVersion(profileId: string, strategyId: string, version?: number): Promise<{ js: string; warmup: number; version: number }> };
  kernel: { backtest(c: { js: string }, params: Record<string, number> | undefined, columns: Columns, config: SimConfig): Promise<SimResult> };
  brokers: { exchangeFor(profileId: string, id: string): Promise<{ ex: Exchange; broker: { exchange: string } }> };
  /** Where the heartbeat stores candles (its exchange). */
  candleExchange?: string;
}

type Status = 'matched' | 'different' | 'missed' | 'late' | 'extra' | 'refused';
export interface DecisionLine {
  candleTime: string;
  backtest: string;
  live: string;
  status: Status;
  lateBy?: number;
  message?: string;
  /** `message` by key (an order's refusal is the exchange's own words, as is). */
  messageKey?: string;
  messageParams?: Params;
}
interface Side {
  entryTime: string;
  exitTime: string;
  entryPrice: string;
  exitPrice: string;
  amount: string;
  fees: string;
  pnl: string;
}
export interface TradeLine {
  entryCandle: string | null;
  live: Side | null;
  backtest: Side | null;
  gaps: { entryPrice: string; exitPrice: string; amount: string; fees: string; pnl: string } | null;
}
export interface Comparison {
  activationId: string;
  version: number;
  symbol: string;
  timeframe: string;
  candles: { from: string | null; to: string | null; count: number };
  config: { fees: { maker: number; taker: number }; fillAt: 'close'; amountStep: number };
  decisions: DecisionLine[];
  counts: Record<Status, number>;
  trades: TradeLine[];
  pnl: { live: string; backtest: string; gap: string; lines: { label: string; amount: string; labelKey: string; labelParams: Params }[] };
  note: string | null;
  noteKey?: string;
  noteParams?: Params;
}

const D = (v: Decimal.Value | number) => new Decimal(typeof v === 'number' ? String(v) : v);
const iso = (ms: number) => new Date(ms).toISOString();

export class LiveVsBacktest {
  constructor(private readonly d: CompareDeps) {}

  async compare(profileId: string, id: string): Promise<Comparison> {
    const { a, decisions, trades, rejected } = await this.d.db.withProfile(profileId, async (c) => {
      const ar = await c.query<{ id: string; strategy_id: string | null; version: number; params: Record<string, number>; broker_id: string | null; symbol: string; timeframe: Timeframe; budget: Decimal }>(
        'SELECT id, strategy_id, version, params, broker_id, symbol, timeframe, budget FROM bot_activations WHERE id = $1',
        [id],
      );
      if (!ar.rows[0]) throw new AppError('not_found', 'errors.bot.noSuchActivation', {}, { id });
      const dr = await c.query<{ candle_time: Date; action: string; status: string; error: string | null; error_key: string | null; error_params: Params | null; order_ids: string[] }>(
        "SELECT candle_time, action, status, error, error_key, error_params, order_ids FROM bot_decisions WHERE activation_id = $1 AND kind = 'signal' ORDER BY candle_time",
        [id],
      );
      const tr = await c.query<{ entry_time: Date; exit_time: Date; entry_price: Decimal; exit_price: Decimal; amount: Decimal; fees: Decimal; pnl: Decimal; entry_order_id: string | null }>(
        'SELECT entry_time, exit_time, entry_price, exit_price, amount, fees, pnl, entry_order_id FROM bot_trades WHERE activation_id = $1 ORDER BY entry_time',
        [id],
      );
      const ids = dr.rows.flatMap((r) => r.order_ids);
      const rj = ids.length
        ? await c.query<{ id: string; error_message: string | null }>("SELECT id, error_message FROM orders WHERE id = ANY($1::uuid[]) AND status = 'rejected'", [ids])
        : { rows: [] as { id: string; error_message: string | null }[] };
      return { a: ar.rows[0], decisions: dr.rows, trades: tr.rows, rejected: new Map(rj.rows.map((r) => [r.id, r.error_message ? say('errors.external', { reason: r.error_message }) : say('coreBot.compare.refused')])) };
    });
    if (!a.strategy_id) throw new AppError('conflict', 'errors.bot.strategyActivationWasDeleted');
    const v = await this.d.strategies.getVersion(profileId, a.strategy_id, a.version);
    const tf = timeframeMs(a.timeframe);
    const empty = (said: Said): Comparison => ({
      activationId: id,
      version: a.version,
      symbol: a.symbol,
      timeframe: a.timeframe,
      candles: { from: null, to: null, count: 0 },
      config: { fees: { maker: 0, taker: 0 }, fillAt: 'close', amountStep: 0 },
      decisions: [],
      counts: { matched: 0, different: 0, missed: 0, late: 0, extra: 0, refused: 0 },
      trades: [],
      pnl: { live: '0', backtest: '0', gap: '0', lines: [] },
      note: said.text,
      noteKey: said.key,
      noteParams: said.params,
    });
    if (decisions.length === 0) return empty(say('coreBot.compare.noDecision'));
    const first = decisions[0]!.candle_time.getTime();
    const last = decisions.at(-1)!.candle_time.getTime();

    // The market's fees and step (paper brokers: the exchange's own, read publicly).
    let fees = { maker: 0, taker: 0 };
    let amountStep = 0;
    let minAmount = 0;
    if (a.broker_id) {
      const { ex } = await this.d.brokers.exchangeFor(profileId, a.broker_id);
      const m = ex.markets?.[a.symbol];
      if (m) {
        fees = { maker: m.maker ?? 0, taker: m.taker ?? 0 };
        amountStep = typeof m.precision?.amount === 'number' && Number(ex.precisionMode) === 4 ? m.precision.amount : 0;
        minAmount = m.limits?.amount?.min ?? 0;
      }
    }
    const columns = await this.candles(a.symbol, a.timeframe, first - v.warmup * tf, last);
    const n = columns.time.length;
    if (n === 0) return empty(say('coreBot.compare.noCandles', { symbol: a.symbol, timeframe: a.timeframe }));
    const config: SimConfig = { initialBalance: Number(a.budget.toString()), fees, slippageBps: 0, fillAt: 'close', allowShort: false, amountStep, minAmount };
    const bt = await this.d.kernel.backtest({ js: v.js }, a.params, columns, config);

    // ── decisions ──
    const btAt = new Map<number, string>();
    for (const x of bt.decisions) {
      const t = columns.time[x.index]!;
      if (t >= first && t <= last && x.action !== 'none') btAt.set(t, x.action);
    }
    const liveAt = new Map(decisions.map((r) => [r.candle_time.getTime(), r]));
    const times = [...new Set([...btAt.keys(), ...decisions.map((r) => r.candle_time.getTime())])].sort((x, y) => x - y);
    const used = new Set<number>();
    const lines: DecisionLine[] = [];
    // the decision's own error, by its key when it has one
    const errorOf = (r: { error: string | null; error_key: string | null; error_params: Params | null }): Said =>
      r.error ? saidAs(r.error, r.error_key, r.error_params) : say('coreBot.compare.error');
    const refusalOf = (r: { status: string; error: string | null; error_key: string | null; error_params: Params | null; order_ids: string[] }) => {
      const refusedOrder = r.order_ids.map((o) => rejected.get(o)).find((m) => m !== undefined);
      return refusedOrder ?? (r.status === 'error' ? errorOf(r) : null);
    };
    for (const t of times) {
      const b = btAt.get(t) ?? 'none';
      const l = liveAt.get(t);
      const la = l?.action ?? 'none';
      if (b === 'none' && (la === 'none' || la === 'error') && !(l && l.status === 'error')) continue;
      if (used.has(t)) continue;
      const refusal = l && la !== 'none' ? refusalOf(l) : l?.status === 'error' ? errorOf(l) : null;
      if (refusal) {
        lines.push({ candleTime: iso(t), backtest: b, live: la, status: 'refused', message: refusal.text, messageKey: refusal.key, messageParams: refusal.params });
      } else if (b !== 'none' && la === b) {
        lines.push({ candleTime: iso(t), backtest: b, live: la, status: 'matched' });
      } else if (b !== 'none' && la !== 'none') {
        lines.push({ candleTime: iso(t), backtest: b, live: la, status: 'different' });
      } else if (b !== 'none') {
        // the same action taken live a little later (and not by the backtest there)?
        let late = 0;
        for (let k = 1; k <= LATE_WINDOW; k++) {
          const lt = liveAt.get(t + k * tf);
          if (lt && lt.action === b && !btAt.has(t + k * tf) && !used.has(t + k * tf)) {
            late = k;
            used.add(t + k * tf);
            break;
          }
        }
        lines.push(late ? { candleTime: iso(t), backtest: b, live: b, status: 'late', lateBy: late } : { candleTime: iso(t), backtest: b, live: 'none', status: 'missed' });
      } else {
        lines.push({ candleTime: iso(t), backtest: 'none', live: la, status: 'extra' });
      }
    }
    const counts: Record<Status, number> = { matched: 0, different: 0, missed: 0, late: 0, extra: 0, refused: 0 };
    for (const x of lines) counts[x.status]++;

    // ── trades, paired by entry candle ──
    const candleOfOrder = new Map<string, number>();
    for (const r of decisions) for (const o of r.order_ids) candleOfOrder.set(o, r.candle_time.getTime());
    const btTrades = bt.trades.filter((x) => x.entryTime >= first && x.entryTime <= last);
    const takenBt = new Set<number>();
    const out: TradeLine[] = [];
    const liveSide = (x: (typeof trades)[number]): Side => ({ entryTime: x.entry_time.toISOString(), exitTime: x.exit_time.toISOString(), entryPrice: x.entry_price.toFixed(), exitPrice: x.exit_price.toFixed(), amount: x.amount.toFixed(), fees: x.fees.toFixed(), pnl: x.pnl.toFixed() });
    const btSide = (x: (typeof btTrades)[number]): Side => ({ entryTime: iso(x.entryTime), exitTime: iso(x.exitTime), entryPrice: D(x.entryPrice).toFixed(), exitPrice: D(x.exitPrice).toFixed(), amount: D(x.amount).toFixed(), fees: D(x.fees).toFixed(), pnl: D(x.pnl).toFixed() });
    const pnlLines: { label: Said; amount: Decimal }[] = [];
    for (const x of trades) {
      const candle = x.entry_order_id ? (candleOfOrder.get(x.entry_order_id) ?? null) : null;
      const j = candle === null ? -1 : btTrades.findIndex((b, k) => !takenBt.has(k) && b.entryTime === candle);
      if (j < 0) {
        out.push({ entryCandle: candle === null ? null : iso(candle), live: liveSide(x), backtest: null, gaps: null });
        pnlLines.push({ label: say('coreBot.compare.liveOnly', { at: x.entry_time.toISOString() }), amount: x.pnl });
        continue;
      }
      takenBt.add(j);
      const b = btTrades[j]!;
      const [eL, xL, aL, fL, pL] = [x.entry_price, x.exit_price, x.amount, x.fees, x.pnl];
      const [eB, xB, aB, fB, pB] = [D(b.entryPrice), D(b.exitPrice), D(b.amount), D(b.fees), D(b.pnl)];
      const gaps = { entryPrice: eL.minus(eB).toFixed(), exitPrice: xL.minus(xB).toFixed(), amount: aL.minus(aB).toFixed(), fees: fL.minus(fB).toFixed(), pnl: pL.minus(pB).toFixed() };
      out.push({ entryCandle: iso(candle!), live: liveSide(x), backtest: btSide(b), gaps });
      const at = iso(candle!);
      const entryEffect = eB.minus(eL).times(aL);
      const exitEffect = xL.minus(xB).times(aL);
      const sizeEffect = xB.minus(eB).times(aL.minus(aB));
      const feeEffect = fB.minus(fL);
      const explained = entryEffect.plus(exitEffect).plus(sizeEffect).plus(feeEffect);
      pnlLines.push({ label: say('coreBot.compare.entryPrice', { at, live: eL.toFixed(), backtest: eB.toFixed() }), amount: entryEffect });
      pnlLines.push({ label: say('coreBot.compare.exitPrice', { at, live: xL.toFixed(), backtest: xB.toFixed() }), amount: exitEffect });
      pnlLines.push({ label: say('coreBot.compare.amount', { at, live: aL.toFixed(), backtest: aB.toFixed() }), amount: sizeEffect });
      pnlLines.push({ label: say('coreBot.compare.fees', { at, live: fL.toFixed(), backtest: fB.toFixed() }), amount: feeEffect });
      const rest = pL.minus(pB).minus(explained);
      if (!rest.isZero()) pnlLines.push({ label: say('coreBot.compare.rounding', { at }), amount: rest });
    }
    btTrades.forEach((b, k) => {
      if (takenBt.has(k)) return;
      out.push({ entryCandle: iso(b.entryTime), live: null, backtest: btSide(b), gaps: null });
      pnlLines.push({ label: say('coreBot.compare.backtestOnly', { at: iso(b.entryTime) }), amount: D(b.pnl).negated() });
    });
    const livePnl = trades.reduce((s, x) => s.plus(x.pnl), new Decimal(0));
    const btPnl = btTrades.reduce((s, x) => s.plus(D(x.pnl)), new Decimal(0));
    const gap = livePnl.minus(btPnl);
    const sum = pnlLines.reduce((s, l) => s.plus(l.amount), new Decimal(0));
    if (!sum.eq(gap)) throw new AppError('internal', 'errors.bot.pLGapLines', { sum: sum.toFixed(), gap: gap.toFixed() });
    return {
      activationId: id,
      version: a.version,
      symbol: a.symbol,
      timeframe: a.timeframe,
      candles: { from: iso(columns.time[0]!), to: iso(columns.time[n - 1]!), count: n },
      config: { fees, fillAt: 'close', amountStep },
      decisions: lines,
      counts,
      trades: out,
      pnl: { live: livePnl.toFixed(), backtest: btPnl.toFixed(), gap: gap.toFixed(), lines: pnlLines.map((l) => ({ label: l.label.text, labelKey: l.label.key, labelParams: l.label.params, amount: l.amount.toFixed() })) },
      note: null,
    };
  }

  /** The stored candles (the heartbeat's) from `from` to `to` inclusive, as kernel columns. */
  private async candles(symbol: string, timeframe: string, from: number, to: number): Promise<Columns> {
    const { rows } = await this.d.db.query<{ t: string; open: Decimal; high: Decimal; low: Decimal; close: Decimal; volume: Decimal }>(
      "SELECT (extract(epoch FROM open_time) * 1000)::bigint AS t, open, high, low, close, volume FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time BETWEEN 'epoch'::timestamptz + $4::bigint * interval '1 millisecond' AND 'epoch'::timestamptz + $5::bigint * interval '1 millisecond' ORDER BY open_time",
      [this.d.candleExchange ?? 'binance', symbol, timeframe, from, to],
    );
    const col = (f: (r: (typeof rows)[number]) => number) => Float64Array.from(rows, f);
    return { time: col((r) => Number(r.t)), open: col((r) => Number(r.open)), high: col((r) => Number(r.high)), low: col((r) => Number(r.low)), close: col((r) => Number(r.close)), volume: col((r) => Number(r.volume)) };
  }
}
