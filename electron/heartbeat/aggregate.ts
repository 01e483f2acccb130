import type Decimal from 'decimal.js';
import { AGGREGATED_TIMEFRAMES, floorToTimeframe, LONGEST_TIMEFRAME, MINUTE_MS, timeframeMinutes, timeframeMs, type Timeframe } from '../../shared/timeframes';

/**
 * Builds 3m 5m 10m 15m 1h 2h 4h candles from closed 1m candles (the hot path of the heartbeat).
 *
 * Per symbol there is a cursor: the open time of the next 1m candle to process. Minutes are
 * processed strictly in order, each exactly once: a minute that arrives early waits in a buffer
 * until every minute before it is there (the result then reports the gap so the caller can fetch
 * it), a minute before the cursor is a duplicate and is ignored. Because processing is in order,
 * each timeframe keeps a running partial candle (open of the first minute, max high, min low, close
 * of the last, sum of volumes, with Decimal), emitted when the bucket's last minute is processed,
 * and only if all its minutes were there; otherwise it is reported as incomplete with the missing
 * minutes. Buckets are on UTC boundaries (see shared/timeframes).
 *
 * Pure: no I/O, no clock. The caller decides when the cursor starts (`start`/`seed`) and when a
 * missing range is given up (`skip`).
 */
export interface MinuteCandle {
  /** ms since the epoch, on a minute boundary */
  openTime: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
}

export interface BuiltCandle extends MinuteCandle {
  timeframe: Timeframe;
  /** the last millisecond inside the candle (Binance convention): openTime + length − 1 */
  closeTime: number;
}

/** 1m open times in [from, to). */
export interface MinuteRange {
  from: number;
  to: number;
}

export interface IncompleteBucket {
  timeframe: Timeframe;
  openTime: number;
  missing: MinuteRange[];
}

export interface FeedResult {
  /** In order: for each processed minute its 1m candle, then each higher timeframe that closed with it. */
  candles: BuiltCandle[];
  /** The minute was already processed or is already buffered. */
  duplicate: boolean;
  /** Minutes missing before buffered later ones ([cursor, first buffered)); null when none. */
  gap: MinuteRange | null;
  /** Buckets whose last minute was processed (or skipped) without all their minutes. */
  incomplete: IncompleteBucket[];
}

/** A higher-timeframe candle being built, with how many of its minutes it has. */
type PartialCandle = MinuteCandle & { count: number };

interface SymbolState {
  cursor: number | null;
  /** first minute processed or skipped to: minutes before it are unknown to this aggregator */
  origin: number | null;
  pending: Map<number, MinuteCandle>;
  partials: (PartialCandle | null)[];
  /** ranges given up with `skip` (pruned once older than the longest timeframe's current bucket) */
  holes: MinuteRange[];
}

function result(): FeedResult {
  return { candles: [], duplicate: false, gap: null, incomplete: [] };
}

export class CandleAggregator {
  private readonly states = new Map<string, SymbolState>();
  private readonly tfs: readonly Timeframe[];
  private readonly tfMs: number[];
  private readonly tfCount: number[];

  constructor(timeframes: readonly Timeframe[] = AGGREGATED_TIMEFRAMES) {
    this.tfs = timeframes.filter((tf) => tf !== '1m');
    this.tfMs = this.tfs.map(timeframeMs);
    this.tfCount = this.tfs.map(timeframeMinutes);
  }

  private state(symbol: string): SymbolState {
    let s = this.states.get(symbol);
    if (!s) {
      s = { cursor: null, origin: null, pending: new Map(), partials: this.tfs.map(() => null), holes: [] };
      this.states.set(symbol, s);
    }
    return s;
  }

  symbols(): string[] {
    return [...this.states.keys()];
  }

  /** The next minute to process, or null before `start`/`seed`. */
  cursor(symbol: string): number | null {
    return this.states.get(symbol)?.cursor ?? null;
  }

  pendingCount(symbol: string): number {
    return this.states.get(symbol)?.pending.size ?? 0;
  }

  /** Forget a symbol entirely. */
  remove(symbol: string): void {
    this.states.delete(symbol);
  }

  /**
   * Add a closed 1m candle (from the stream or a backfill), in any order, duplicates allowed.
   * Before the cursor is set, candles are only buffered.
   */
  add(symbol: string, c: MinuteCandle): FeedResult {
    if (c.openTime % MINUTE_MS !== 0) throw new Error(`1m candle open time ${c.openTime} is not on a minute boundary`);
    const s = this.state(symbol);
    const out = result();
    if ((s.cursor !== null && c.openTime < s.cursor) || s.pending.has(c.openTime)) {
      out.duplicate = true;
      out.gap = this.gapOf(s);
      return out;
    }
    if (s.cursor === c.openTime) {
      this.process(s, c, out);
      if (s.pending.size > 0) this.drainInto(s, out);
    } else {
      s.pending.set(c.openTime, c);
    }
    out.gap = this.gapOf(s);
    return out;
  }

  /**
   * Set the cursor of a symbol that has none (the minute from which processing starts). Buffered
   * candles before it are dropped; the ones from it on are processed.
   */
  start(symbol: string, cursor: number): FeedResult {
    if (cursor % MINUTE_MS !== 0) throw new Error(`cursor ${cursor} is not on a minute boundary`);
    const s = this.state(symbol);
    const out = result();
    if (s.cursor !== null) {
      out.gap = this.gapOf(s);
      return out;
    }
    s.cursor = cursor;
    s.origin = cursor;
    this.drainInto(s, out);
    out.gap = this.gapOf(s);
    return out;
  }

  /**
   * Feed known history (sorted oldest first, typically read back from the store) without waiting
   * for missing minutes: a hole in it is skipped. Starts the cursor at the first candle if unset.
   * The caller stores the result and does not signal it. Buffered candles are not drained here
   * (call `drain` to process them as live ones).
   */
  seed(symbol: string, candles: readonly MinuteCandle[]): FeedResult {
    const s = this.state(symbol);
    const out = result();
    for (const c of candles) {
      if (s.cursor === null) {
        s.cursor = c.openTime;
        s.origin = c.openTime;
      }
      if (c.openTime < s.cursor) continue;
      if (c.openTime > s.cursor) this.skipInto(s, c.openTime, out);
      s.pending.delete(c.openTime);
      this.process(s, c, out);
    }
    out.gap = this.gapOf(s);
    return out;
  }

  /** Process the buffered minutes that are now in order. */
  drain(symbol: string): FeedResult {
    const s = this.state(symbol);
    const out = result();
    this.drainInto(s, out);
    out.gap = this.gapOf(s);
    return out;
  }

  /**
   * Give up the minutes in [cursor, to) (the exchange has none there): buckets containing them are
   * reported incomplete instead of emitted. Then the buffered minutes are drained.
   */
  skip(symbol: string, to: number): FeedResult {
    const s = this.state(symbol);
    const out = result();
    if (s.cursor === null || to <= s.cursor) {
      out.gap = this.gapOf(s);
      return out;
    }
    this.skipInto(s, to - (to % MINUTE_MS), out);
    this.drainInto(s, out);
    out.gap = this.gapOf(s);
    return out;
  }

  /**
   * What is missing before the cursor can move: [cursor, first buffered) when a later minute is
   * buffered, else [cursor, upTo) when `upTo` (the current minute, still open) is past the cursor.
   */
  gap(symbol: string, upTo?: number): MinuteRange | null {
    const s = this.states.get(symbol);
    if (!s || s.cursor === null) return null;
    const g = this.gapOf(s);
    if (g) return g;
    if (upTo !== undefined && upTo > s.cursor) return { from: s.cursor, to: upTo - (upTo % MINUTE_MS) };
    return null;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  private gapOf(s: SymbolState): MinuteRange | null {
    if (s.cursor === null || s.pending.size === 0) return null;
    let min = Infinity;
    for (const t of s.pending.keys()) if (t < min) min = t;
    return { from: s.cursor, to: min };
  }

  private drainInto(s: SymbolState, out: FeedResult): void {
    if (s.cursor === null) return;
    for (const t of s.pending.keys()) if (t < s.cursor) s.pending.delete(t);
    let next = s.pending.get(s.cursor);
    while (next) {
      s.pending.delete(s.cursor);
      this.process(s, next, out);
      next = s.pending.get(s.cursor);
    }
  }

  /** The hot path: one minute, exactly at the cursor. */
  private process(s: SymbolState, c: MinuteCandle, out: FeedResult): void {
    const t = c.openTime;
    out.candles.push({ timeframe: '1m', openTime: t, closeTime: t + MINUTE_MS - 1, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
    const partials = s.partials;
    for (let i = 0; i < this.tfs.length; i++) {
      const len = this.tfMs[i]!;
      const b = t - (((t % len) + len) % len);
      let p = partials[i];
      if (!p || p.openTime !== b) {
        p = { openTime: b, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, count: 1 };
        partials[i] = p;
      } else {
        if (c.high.gt(p.high)) p.high = c.high;
        if (c.low.lt(p.low)) p.low = c.low;
        p.close = c.close;
        p.volume = p.volume.plus(c.volume);
        p.count++;
      }
      if (t === b + len - MINUTE_MS) {
        if (p.count === this.tfCount[i]) {
          out.candles.push({ timeframe: this.tfs[i]!, openTime: b, closeTime: b + len - 1, open: p.open, high: p.high, low: p.low, close: p.close, volume: p.volume });
        } else {
          out.incomplete.push({ timeframe: this.tfs[i]!, openTime: b, missing: this.missingIn(s, b, b + len) });
        }
        partials[i] = null;
      }
    }
    s.cursor = t + MINUTE_MS;
  }

  /** Move the cursor to `to` over minutes that will never come. */
  private skipInto(s: SymbolState, to: number, out: FeedResult): void {
    const from = s.cursor!;
    if (to <= from) return;
    s.holes.push({ from, to });
    // Buckets whose last minute lies in the hole close now, incomplete (when something of them was seen).
    for (let i = 0; i < this.tfs.length; i++) {
      const len = this.tfMs[i]!;
      const p = s.partials[i];
      if (p && p.openTime + len - MINUTE_MS < to) {
        out.incomplete.push({ timeframe: this.tfs[i]!, openTime: p.openTime, missing: this.missingIn(s, p.openTime, p.openTime + len) });
        s.partials[i] = null;
      }
    }
    s.cursor = to;
    for (const t of s.pending.keys()) if (t < to) s.pending.delete(t);
    const keepFrom = floorToTimeframe(to, LONGEST_TIMEFRAME) - timeframeMs(LONGEST_TIMEFRAME);
    if (s.holes.length > 8) s.holes = s.holes.filter((h) => h.to > keepFrom);
  }

  private missingIn(s: SymbolState, from: number, to: number): MinuteRange[] {
    const ranges: MinuteRange[] = [];
    if (s.origin !== null && s.origin > from) ranges.push({ from, to: Math.min(s.origin, to) });
    for (const h of s.holes) {
      const a = Math.max(h.from, from);
      const b = Math.min(h.to, to);
      if (a < b) ranges.push({ from: a, to: b });
    }
    ranges.sort((x, y) => x.from - y.from);
    const merged: MinuteRange[] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
      else merged.push({ ...r });
    }
    return merged;
  }
}
