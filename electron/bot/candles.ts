import type { Timeframe } from '../../shared/timeframes';
import { timeframeMs } from '../../shared/timeframes';
import type { BrokerService } from '../exchanges/brokers';
import type { StoredCandle } from '../heartbeat/store';

/**
 * Candles of a broker whose exchange is not the heartbeat's (issue 12, item 2): read through CCXT
 * `fetchOHLCV`, incrementally (from the last cached candle on), cached per broker, symbol and
 * timeframe, closed candles only. The heartbeat's signal still says when; this says what the
 * broker's own market did.
 */
export class BrokerCandles {
  private readonly cache = new Map<string, StoredCandle[]>();
  private readonly reads = new Map<string, Promise<void>>();

  constructor(
    private readonly brokers: Pick<BrokerService, 'exchangeFor'>,
    private readonly clock: { now(): number },
    private readonly opts: { keep?: number; pageLimit?: number } = {},
  ) {}

  /** The latest `n` closed candles with open time ≤ `until`, oldest first. */
  async window(profileId: string, brokerId: string, symbol: string, timeframe: Timeframe, n: number, until: number): Promise<StoredCandle[]> {
    const key = `${profileId}|${brokerId}|${symbol}|${timeframe}`;
    const have = this.cache.get(key);
    if (!have || (have.at(-1)?.openTime ?? -Infinity) < until || have.length < n) {
      let p = this.reads.get(key);
      if (!p) {
        p = this.fetch(key, profileId, brokerId, symbol, timeframe, n, until).finally(() => this.reads.delete(key));
        this.reads.set(key, p);
      }
      await p;
    }
    const all = (this.cache.get(key) ?? []).filter((c) => c.openTime <= until);
    return all.slice(Math.max(0, all.length - n));
  }

  private async fetch(key: string, profileId: string, brokerId: string, symbol: string, timeframe: Timeframe, n: number, until: number): Promise<void> {
    const tf = timeframeMs(timeframe);
    const cached = this.cache.get(key) ?? [];
    const enough = cached.length >= n;
    let since = enough && cached.length ? cached.at(-1)!.openTime + tf : until - (n - 1) * tf;
    const { ex } = await this.brokers.exchangeFor(profileId, brokerId);
    const byTime = new Map<number, StoredCandle>(enough ? cached.map((c) => [c.openTime, c]) : []);
    const limit = this.opts.pageLimit ?? 1000;
    const closedBy = this.clock.now();
    for (let page = 0; page < 20 && since <= until; page++) {
      const rows = await ex.fetchOHLCV(symbol, timeframe, since, limit);
      let last = -Infinity;
      for (const r of rows) {
        const [t, o, h, l, c, v] = r as [number, number, number, number, number, number];
        if (t + tf > closedBy) continue; // still open
        byTime.set(t, { openTime: t, open: String(o), high: String(h), low: String(l), close: String(c), volume: String(v) });
        last = Math.max(last, t);
      }
      if (rows.length < limit || last === -Infinity) break;
      since = last + tf;
    }
    // kept: the window asked for and what came after it (the next windows' start)
    const from = until - (Math.max(n, this.opts.keep ?? 0) - 1) * tf;
    this.cache.set(key, [...byTime.values()].filter((c) => c.openTime >= from).sort((a, b) => a.openTime - b.openTime));
  }
}
