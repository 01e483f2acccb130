import Decimal from 'decimal.js';
import type { Exchange } from 'ccxt';
import { AppError } from '../../shared/errors';
import type { Database, Queryable } from '../db/database';
import type { ExchangeGateway } from '../exchanges/gateway';
import type { EventBus } from '../events';
import type { Logger } from '../log';
import { dec } from '../trading/ccxt-io';
import { currentSandbox, type BrokerAccess } from '../trading/mode';
import { fillOrder, LedgerState, type LedgerFill, type OpenLot, type Opening, type Source, type Trade } from './ledger';

/**
 * Statistics: keeps the P&L ledger (round-trip trades and open lots per book) materialised from the
 * order journal's fills, and takes equity snapshots of every broker — at start, hourly, and after
 * every fill — detecting deposits and withdrawals on the way. The figures are read by `StatsQueries`.
 */

export const DEFAULT_CURRENCY = 'USDT';
const D = Decimal.clone({ precision: 60 });
const HOUR_MS = 3_600_000;

export interface StatsServiceOptions {
  db: Database;
  brokers: BrokerAccess & { list(profileId: string): Promise<{ id: string; active: boolean; exchange?: string }[]> };
  gateway: Pick<ExchangeGateway, 'info'>;
  bus?: EventBus;
  log: Logger;
  /** Between two scheduled snapshots (0: none; the start and after-fill snapshots still happen). */
  snapshotIntervalMs?: number;
  /** After a fill, wait this long for more before the snapshot (default 1000 ms). */
  afterFillDelayMs?: number;
  /** Take a snapshot of every broker when the service starts (default true). */
  snapshotAtStart?: boolean;
}

interface Balance {
  total: Decimal;
  price: Decimal | null;
  value: Decimal | null;
}

export interface SnapshotResult {
  id: number;
  brokerId: string;
  takenAt: Date;
  value: Decimal;
  missing: string[];
  flows: { asset: string; amount: Decimal; value: Decimal | null }[];
}

export interface RebuildResult {
  /** Trades and open lots written. */
  trades: number;
  lots: number;
  /** The whole account, or the base assets brought up to date. */
  scope: 'account' | string[];
  /** `incremental`: new fills applied to the saved state; `rebuilt-base`: a base rebuilt (a fill out of order); `rebuilt`: the whole account. */
  mode: 'incremental' | 'rebuilt-base' | 'rebuilt';
  /** Fills applied. */
  fills: number;
}

const splitSymbol = (symbol: string): { base: string; quote: string } => {
  const [base = symbol, rest = ''] = symbol.split('/');
  return { base, quote: rest.split(':')[0] ?? rest };
};

export class StatsService {
  private readonly chains = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private off: (() => void) | null = null;
  private readonly noHistory = new Set<string>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly pendingArgs = new Map<string, { profileId: string; brokerId: string }>();
  private readonly filled = new Map<string, Set<string> | null>();
  private stopped = false;
  /** The ledger state of each account (profile:broker:sandbox), per base asset, between fills. */
  private readonly ledgers = new Map<string, { currency: string; bases: Map<string, LedgerState> }>();

  constructor(private readonly o: StatsServiceOptions) {}

  async start(): Promise<void> {
    this.off =
      this.o.bus?.on((e) => {
        if (e.event !== 'positions.updated' || !e.profileId) return;
        // a burst of fills (a bot's legs, partial fills) gives one snapshot once it settles
        const { brokerId, symbols } = e.data as { brokerId: string; symbols?: string[] };
        const profileId = e.profileId;
        const key = `${profileId}:${brokerId}`;
        const t = this.pending.get(key);
        if (t) clearTimeout(t);
        // the markets that filled since the last snapshot (null: unknown, the whole account)
        const seen = this.filled.get(key);
        const merged = seen === null || !symbols ? null : new Set([...(seen ?? []), ...symbols]);
        this.filled.set(key, merged);
        const timer = setTimeout(() => void this.fire(key, profileId, brokerId), this.o.afterFillDelayMs ?? 1000);
        timer.unref();
        this.pending.set(key, timer);
        this.pendingArgs.set(key, { profileId, brokerId });
      }) ?? null;
    const every = this.o.snapshotIntervalMs ?? HOUR_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.snapshotAll('hourly'), every);
      this.timer.unref();
    }
    if (this.o.snapshotAtStart !== false) void this.snapshotAll('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    if (this.timer) clearInterval(this.timer);
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.pendingArgs.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Takes the after-fill snapshot waiting under `key` now (its timer ran out, or settle() asked). */
  private fire(key: string, profileId: string, brokerId: string): Promise<void> {
    const t = this.pending.get(key);
    if (t) clearTimeout(t);
    this.pending.delete(key);
    this.pendingArgs.delete(key);
    const markets = this.filled.get(key) ?? null;
    this.filled.delete(key);
    if (this.stopped) return Promise.resolve();
    return this.afterFill(profileId, brokerId, markets ? [...markets] : null);
  }

  /**
   * Takes every after-fill snapshot still waiting for more fills now, and waits until every queued
   * snapshot and rebuild is done: afterwards the statistics reflect every fill seen so far.
   */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pendingArgs.entries()].map(([key, a]) => this.fire(key, a.profileId, a.brokerId)));
    await Promise.allSettled([...this.chains.values()]);
  }

  /** One thing at a time per broker (rebuilds and snapshots), in order. */
  private serial<T>(brokerId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(brokerId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.chains.set(brokerId, settled);
    void settled.then(() => {
      if (this.chains.get(brokerId) === settled) this.chains.delete(brokerId);
    });
    return next;
  }

  private async afterFill(profileId: string, brokerId: string, markets: string[] | null): Promise<void> {
    try {
      await this.snapshot(profileId, brokerId, 'fill', markets ?? undefined);
    } catch (e) {
      this.o.log.warn({ broker: brokerId, err: (e as Error).message }, 'statistics: no snapshot after the fill');
      await this.rebuild(profileId, brokerId, markets ?? undefined).catch((x: Error) => this.o.log.warn({ broker: brokerId, err: x.message }, 'statistics: ledger not rebuilt'));
    }
  }

  /** A snapshot of every active broker of every profile (errors are logged, one broker never stops the others). */
  async snapshotAll(reason: 'start' | 'hourly'): Promise<void> {
    if (this.stopped) return;
    const profiles = (await this.o.db.query<{ id: string }>('SELECT id FROM profiles')).rows;
    for (const p of profiles) {
      let brokers: { id: string; active: boolean }[] = [];
      try {
        brokers = await this.o.brokers.list(p.id);
      } catch {
        continue;
      }
      for (const b of brokers.filter((x) => x.active)) {
        if (this.stopped) return;
        await this.snapshot(p.id, b.id, reason).catch((e: Error) => this.o.log.warn({ broker: b.id, err: e.message }, 'statistics: snapshot failed'));
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Settings

  async currency(profileId: string): Promise<string> {
    const { rows } = await this.o.db.withProfile(profileId, (c) => c.query<{ currency: string }>('SELECT currency FROM stats_settings'));
    return rows[0]?.currency ?? DEFAULT_CURRENCY;
  }

  /**
   * Currencies to offer for the valuation: the quote currencies of the markets of the profile's
   * brokers' exchanges (the markets loaded so far), those with the most markets first, at most
   * `limit`; USDT and the current one always among them.
   */
  async currencySuggestions(profileId: string, limit = 10): Promise<string[]> {
    const current = await this.currency(profileId);
    const exchanges = [...new Set((await this.o.brokers.list(profileId)).map((b) => b.exchange).filter((x): x is string => !!x))];
    const { rows } = exchanges.length
      ? await this.o.db.query<{ quote: string }>(
          "SELECT quote FROM exchange_symbols WHERE exchange = ANY($1::text[]) AND active AND quote ~ '^[A-Z0-9]{2,12}$' GROUP BY quote ORDER BY count(*) DESC, quote LIMIT $2",
          [exchanges, limit],
        )
      : { rows: [] };
    const counts = new Map<string, number>(rows.map((r, i) => [r.quote, rows.length - i]));
    if (!rows.length) {
      // the markets table not filled yet: the markets the brokers' exchanges loaded
      for (const b of (await this.o.brokers.list(profileId)).filter((x) => x.active)) {
        try {
          const { ex } = await this.o.brokers.exchangeFor(profileId, b.id);
          for (const m of Object.values(ex.markets ?? {})) if (m?.quote && /^[A-Z0-9]{2,12}$/.test(m.quote)) counts.set(m.quote, (counts.get(m.quote) ?? 0) + 1);
        } catch {
          // an unreachable broker offers nothing
        }
      }
    }
    const byUse = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([q]) => q);
    return [...new Set([DEFAULT_CURRENCY, current, ...byUse])].slice(0, Math.max(limit, 2));
  }

  /** A currency is known when some exchange lists a market in it (the markets loaded so far). */
  async setCurrency(profileId: string, currency: string): Promise<string> {
    const cur = currency.trim().toUpperCase();
    const known = /^[A-Z0-9]{2,12}$/.test(cur) && (cur === DEFAULT_CURRENCY || (await this.listedAnywhere(profileId, cur)));
    if (!known) throw new AppError('invalid_input', 'errors.stats.unknownCurrencyNoExchange', { currency }, { field: 'currency' });
    const before = await this.currency(profileId);
    await this.o.db.withProfile(profileId, (c) =>
      c.query('INSERT INTO stats_settings (currency) VALUES ($1) ON CONFLICT (profile_id) DO UPDATE SET currency = EXCLUDED.currency, updated_at = now()', [cur]),
    );
    if (cur !== before) await this.revalue(profileId);
    return cur;
  }

  /**
   * After a change of currency: every active broker's balances valued in it now (a snapshot), and its
   * trades revalued (the ledger of an account valued in another currency is rebuilt whole). A broker
   * that cannot be reached now still gets its trades revalued (with the rates its snapshots give;
   * the others are named as missing by the figures).
   */
  private async revalue(profileId: string): Promise<void> {
    for (const b of (await this.o.brokers.list(profileId)).filter((x) => x.active)) {
      try {
        await this.snapshot(profileId, b.id, 'manual');
      } catch (e) {
        this.o.log.warn({ broker: b.id, err: (e as Error).message }, 'statistics: no snapshot in the new currency');
        await this.rebuild(profileId, b.id).catch((x: Error) => this.o.log.warn({ broker: b.id, err: x.message }, 'statistics: trades not revalued'));
      }
    }
  }

  /** Listed by a market some exchange reported (the shared market table), or by one of the profile's brokers' markets. */
  private async listedAnywhere(profileId: string, cur: string): Promise<boolean> {
    if ((await this.o.db.query('SELECT 1 FROM exchange_symbols WHERE base = $1 OR quote = $1 LIMIT 1', [cur])).rows.length) return true;
    for (const b of (await this.o.brokers.list(profileId)).filter((x) => x.active)) {
      try {
        const { ex } = await this.o.brokers.exchangeFor(profileId, b.id);
        if (Object.values(ex.markets ?? {}).some((m) => m && (m.base === cur || m.quote === cur))) return true;
      } catch {
        // an unreachable broker says nothing about the currency
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // The ledger

  /**
   * Brings the round-trip trades and open lots of the broker's account in its current mode up to date
   * with its fills (see `rebuildIn`). `markets` (the markets that filled) is a hint only: every base
   * asset whose fills changed is brought up to date.
   */
  rebuild(profileId: string, brokerId: string, _markets?: string[]): Promise<RebuildResult> {
    return this.serial(brokerId, async () => {
      const broker = await this.o.brokers.get(profileId, brokerId);
      const sandbox = await currentSandbox(this.o.db, this.o.gateway, profileId, broker);
      return this.rebuildIn(profileId, brokerId, sandbox);
    });
  }

  /** Forgets the saved ledger states: the next update rebuilds every account from its first fill. */
  forgetLedgers(): void {
    this.ledgers.clear();
  }

  /**
   * The ledger of one account. Books never cross base assets (a market's lots are per market and
   * book; the only book shared between markets is the opening holding of their base asset), so the
   * ledger is kept as one `LedgerState` per base asset, in memory, between fills.
   *
   * The normal case after a fill (`incremental`): the fills of each base asset are counted; a base
   * whose count grew gets its new fills — those after the last one applied — applied to its saved
   * state, and only the trades they touched and that base's open lots are rewritten. When the count
   * does not match (a fill arrived older than the last one applied), that base alone is rebuilt from
   * its first fill. The whole account is rebuilt (and the states saved) when there is no saved state
   * (app start), when the valuation currency changed, or when some trade is valued in another
   * currency or not valued at all (a new snapshot may now give its rate). An error drops the saved
   * state (the next update rebuilds). Either way the rows are exactly those of a whole rebuild.
   */
  private async rebuildIn(profileId: string, brokerId: string, sandbox: boolean): Promise<RebuildResult> {
    const currency = await this.currency(profileId);
    const acct = `${profileId}:${brokerId}:${sandbox}`;
    try {
      return await this.o.db.withProfile(profileId, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stats:${brokerId}:${sandbox}`]);
        const saved = this.ledgers.get(acct);
        if (saved && saved.currency === currency) {
          const stale = await c.query('SELECT 1 FROM stats_trades WHERE broker_id = $1 AND sandbox = $2 AND (currency <> $3 OR pnl_value IS NULL) LIMIT 1', [brokerId, sandbox, currency]);
          if (!stale.rows.length) return this.update(c, brokerId, sandbox, currency, saved.bases);
        }
        this.ledgers.delete(acct);
        const fills = await loadFills(c, brokerId, sandbox);
        const openings = await loadOpenings(c, brokerId, sandbox, null);
        const states = new Map<string, LedgerState>();
        for (const o of openings) if (!states.has(o.asset)) states.set(o.asset, new LedgerState(openings.filter((x) => x.asset === o.asset)));
        for (const f of [...fills].sort(fillOrder)) {
          let st = states.get(f.base);
          if (!st) states.set(f.base, (st = new LedgerState()));
          st.apply(f);
        }
        const trades = [...states.values()].flatMap((st) => st.result().trades);
        const lots = [...states.values()].flatMap((st) => st.openLots());
        await c.query('DELETE FROM stats_trades WHERE broker_id = $1 AND sandbox = $2', [brokerId, sandbox]);
        await c.query('DELETE FROM stats_lots WHERE broker_id = $1 AND sandbox = $2', [brokerId, sandbox]);
        await writeRows(c, brokerId, sandbox, currency, trades, lots);
        this.ledgers.set(acct, { currency, bases: states });
        return { trades: trades.length, lots: lots.length, scope: 'account', mode: 'rebuilt', fills: fills.length };
      });
    } catch (e) {
      this.ledgers.delete(acct);
      throw e;
    }
  }

  /** The incremental update of a saved account ledger (see `rebuildIn`). */
  private async update(c: Queryable, brokerId: string, sandbox: boolean, currency: string, bases: Map<string, LedgerState>): Promise<RebuildResult> {
    const counts = (
      await c.query<{ base: string; n: number }>(
        "SELECT split_part(symbol, '/', 1) AS base, count(*)::int AS n FROM order_fills WHERE broker_id = $1 AND sandbox = $2 GROUP BY 1",
        [brokerId, sandbox],
      )
    ).rows;
    const changed = counts.filter((r) => r.n !== (bases.get(r.base)?.applied ?? 0)).map((r) => r.base);
    const gone = [...bases.entries()].filter(([b, st]) => st.applied > 0 && !counts.some((r) => r.base === b)).map(([b]) => b);
    const scope = [...new Set([...changed, ...gone])].sort();
    let written = 0;
    let lotCount = 0;
    let applied = 0;
    let mode: RebuildResult['mode'] = 'incremental';
    for (const base of scope) {
      const st = bases.get(base);
      const total = counts.find((r) => r.base === base)?.n ?? 0;
      const since = st?.last?.executedAt ?? null;
      const fresh = st ? (await loadFills(c, brokerId, sandbox, [base], since)).filter((f) => st.follows(f)) : [];
      if (st && st.applied + fresh.length === total) {
        // the normal case: the new fills come after every fill applied
        st.touched.clear();
        for (const f of fresh) st.apply(f);
        const trades = [...st.touched].map((k) => st.trade(k)!);
        await c.query('DELETE FROM stats_trades WHERE broker_id = $1 AND sandbox = $2 AND key = ANY($3::text[])', [brokerId, sandbox, [...st.touched]]);
        await c.query('DELETE FROM stats_lots WHERE broker_id = $1 AND sandbox = $2 AND base = $3', [brokerId, sandbox, base]);
        const lots = st.openLots();
        await writeRows(c, brokerId, sandbox, currency, trades, lots);
        st.touched.clear();
        written += trades.length;
        lotCount += lots.length;
        applied += fresh.length;
        continue;
      }
      // a fill older than the last one applied (or one removed): this base from its first fill
      mode = 'rebuilt-base';
      const fills = await loadFills(c, brokerId, sandbox, [base]);
      const rebuilt = new LedgerState(await loadOpenings(c, brokerId, sandbox, [base]));
      for (const f of [...fills].sort(fillOrder)) rebuilt.apply(f);
      bases.set(base, rebuilt);
      const r = rebuilt.result();
      await c.query('DELETE FROM stats_trades WHERE broker_id = $1 AND sandbox = $2 AND base = $3', [brokerId, sandbox, base]);
      await c.query('DELETE FROM stats_lots WHERE broker_id = $1 AND sandbox = $2 AND base = $3', [brokerId, sandbox, base]);
      await writeRows(c, brokerId, sandbox, currency, r.trades, r.lots);
      written += r.trades.length;
      lotCount += r.lots.length;
      applied += fills.length;
    }
    return { trades: written, lots: lotCount, scope, mode, fills: applied };
  }

  // ------------------------------------------------------------------------------------------
  // Equity snapshots

  /** Values the broker's balances now, records deposits/withdrawals since the previous snapshot, then rebuilds the ledger. */
  snapshot(profileId: string, brokerId: string, reason: 'start' | 'hourly' | 'fill' | 'manual', _markets?: string[]): Promise<SnapshotResult> {
    return this.serial(brokerId, async () => {
      const { ex, broker } = await this.o.brokers.exchangeFor(profileId, brokerId);
      const sandbox = await currentSandbox(this.o.db, this.o.gateway, profileId, broker);
      const currency = await this.currency(profileId);
      // the snapshot's time is taken before the balances are read: the fills recorded up to it are
      // in these balances (a fill is recorded after it executed), those recorded later belong to the
      // next snapshot — each fill explains exactly one interval (a fill executed just before the
      // read but recorded just after gives a pair of flows that cancel, never a lasting one)
      const takenAt = new Date();
      const bal = await ex.fetchBalance();
      const totals = new Map<string, Decimal>();
      const tot = (bal.total ?? {}) as unknown as Record<string, unknown>;
      for (const [asset, v] of Object.entries(tot)) {
        const t = dec(v);
        if (t && !t.isZero()) totals.set(asset, t);
      }
      const prices = await priceAssets(ex, [...totals.keys()], currency);
      const balances = new Map<string, Balance>();
      let value = new Decimal(0);
      const missing: string[] = [];
      for (const [asset, total] of [...totals].sort((a, b) => a[0].localeCompare(b[0]))) {
        const price = asset === currency ? new Decimal(1) : (prices.get(asset) ?? null);
        const v = price ? total.times(price) : null;
        if (v) value = value.plus(v);
        else missing.push(asset);
        balances.set(asset, { total, price, value: v });
      }
      const history = await this.exchangeFlows(ex, brokerId, sandbox, profileId);
      const result = await this.o.db.withProfile(profileId, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stats:${brokerId}:${sandbox}`]);
        const prev = (
          await c.query<{ id: number; taken_at: Date; balances: Record<string, { total: string }> }>(
            'SELECT id, taken_at, balances FROM equity_snapshots WHERE broker_id = $1 AND sandbox = $2 ORDER BY taken_at DESC, id DESC LIMIT 1',
            [brokerId, sandbox],
          )
        ).rows[0];
        const flows: { asset: string; amount: Decimal; value: Decimal | null; origin: 'balance' | 'exchange'; externalId: string | null; at: Date }[] = [];
        if (!prev) {
          // first sight: what is held beyond what the recorded fills bought is the opening book
          const net = await netFromFills(c, brokerId, sandbox, null, takenAt);
          for (const [asset, b] of balances) {
            if (asset === currency) continue; // cash is not a position
            const q = b.total.minus(net.get(asset) ?? 0);
            if (q.gt(0))
              await c.query('INSERT INTO stats_openings (broker_id, sandbox, asset, quantity, price, currency, seen_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING', [
                brokerId, sandbox, asset, q.toFixed(), b.price?.toFixed() ?? null, currency, takenAt,
              ]);
          }
        } else {
          const net = await netFromFills(c, brokerId, sandbox, prev.taken_at, takenAt);
          // fills executed before the previous snapshot but recorded after it: their effect was in its
          // balances, so it flagged them as a flow; that flow is taken back and they explain nothing here
          const late = await netFromFills(c, brokerId, sandbox, prev.taken_at, takenAt, prev.taken_at);
          for (const [asset, amount] of late) {
            if (amount.isZero()) continue;
            net.set(asset, (net.get(asset) ?? new Decimal(0)).minus(amount));
            const f = (await c.query<{ id: string; amount: Decimal; value: Decimal | null }>("SELECT id, amount, value FROM stats_flows WHERE snapshot_id = $1 AND origin = 'balance' AND asset = $2", [prev.id, asset])).rows[0];
            if (!f) continue;
            const left = f.amount.minus(amount);
            if (left.abs().lte(new Decimal('1e-12'))) await c.query('DELETE FROM stats_flows WHERE id = $1', [f.id]);
            else await c.query('UPDATE stats_flows SET amount = $2, value = $3 WHERE id = $1', [f.id, left.toFixed(), f.value ? f.value.times(left).div(f.amount).toFixed() : null]);
          }
          if (late.size) await c.query('UPDATE equity_snapshots SET flow_value = (SELECT COALESCE(sum(value), 0) FROM stats_flows WHERE snapshot_id = $1) WHERE id = $1', [prev.id]);
          const reported = new Map<string, Decimal>();
          for (const h of history.filter((x) => x.at > prev.taken_at)) {
            reported.set(h.asset, (reported.get(h.asset) ?? new Decimal(0)).plus(h.amount));
            const price = h.asset === currency ? new Decimal(1) : (balances.get(h.asset)?.price ?? null);
            flows.push({ ...h, value: price ? h.amount.times(price) : null, origin: 'exchange' });
          }
          const assets = new Set([...balances.keys(), ...Object.keys(prev.balances)]);
          for (const asset of assets) {
            const before = new Decimal(prev.balances[asset]?.total ?? 0);
            const now = balances.get(asset)?.total ?? new Decimal(0);
            const unexplained = now.minus(before).minus(net.get(asset) ?? 0).minus(reported.get(asset) ?? 0);
            if (unexplained.abs().lte(new Decimal('1e-8').times(Decimal.max(1, before.abs(), now.abs())))) continue;
            const price = asset === currency ? new Decimal(1) : (balances.get(asset)?.price ?? null);
            flows.push({ asset, amount: unexplained, value: price ? unexplained.times(price) : null, origin: 'balance', externalId: null, at: takenAt });
          }
        }
        const flowValue = flows.reduce((s, f) => s.plus(f.value ?? 0), new Decimal(0));
        const json = Object.fromEntries([...balances].map(([a, b]) => [a, { total: b.total.toFixed(), price: b.price?.toFixed() ?? null, value: b.value?.toFixed() ?? null }]));
        const snap = (
          await c.query<{ id: number }>(
            'INSERT INTO equity_snapshots (broker_id, sandbox, taken_at, reason, currency, value, balances, missing, flow_value) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id',
            [brokerId, sandbox, takenAt, reason, currency, value.toFixed(), JSON.stringify(json), missing, flowValue.toFixed()],
          )
        ).rows[0]!;
        const kept: typeof flows = [];
        for (const f of flows) {
          const r = await c.query(
            `INSERT INTO stats_flows (broker_id, sandbox, asset, amount, value, currency, at, origin, external_id, snapshot_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
             ON CONFLICT (broker_id, sandbox, external_id) WHERE external_id IS NOT NULL DO NOTHING`,
            [brokerId, sandbox, f.asset, f.amount.toFixed(), f.value?.toFixed() ?? null, currency, f.at, f.origin, f.externalId, snap.id],
          );
          if (r.rowCount) kept.push(f);
        }
        return { id: snap.id, brokerId, takenAt, value, missing, flows: kept.map((f) => ({ asset: f.asset, amount: f.amount, value: f.value })), first: !prev };
      });
      // the first sight records the openings: the whole account is rebuilt with them
      const { first, ...out } = result;
      if (first) this.ledgers.delete(`${profileId}:${brokerId}:${sandbox}`);
      await this.rebuildIn(profileId, brokerId, sandbox);
      return out;
    });
  }

  /** Deposits and withdrawals from the exchange's history where CCXT has it (an exchange that refuses is not asked again). */
  private async exchangeFlows(ex: Exchange, brokerId: string, sandbox: boolean, profileId: string): Promise<{ asset: string; amount: Decimal; externalId: string | null; at: Date }[]> {
    const key = `${brokerId}:${sandbox}`;
    if (this.noHistory.has(key) || (!ex.has.fetchDeposits && !ex.has.fetchWithdrawals)) return [];
    const since = (await this.o.db.withProfile(profileId, (c) => c.query<{ at: Date | null }>('SELECT max(taken_at) AS at FROM equity_snapshots WHERE broker_id = $1 AND sandbox = $2', [brokerId, sandbox]))).rows[0]?.at;
    if (!since) return [];
    const out: { asset: string; amount: Decimal; externalId: string | null; at: Date }[] = [];
    try {
      const txs = [...(ex.has.fetchDeposits ? await ex.fetchDeposits(undefined, since.getTime()) : []), ...(ex.has.fetchWithdrawals ? await ex.fetchWithdrawals(undefined, since.getTime()) : [])];
      for (const t of txs) {
        const amount = dec(t.amount);
        if (!amount || amount.isZero() || !t.currency || (t.status && t.status !== 'ok')) continue;
        out.push({ asset: String(t.currency), amount: t.type === 'withdrawal' ? amount.neg() : amount, externalId: `${t.type}:${t.id ?? t.txid}`, at: new Date(t.timestamp ?? Date.now()) });
      }
    } catch (e) {
      this.noHistory.add(key);
      this.o.log.info({ broker: brokerId, err: (e as Error).message }, 'statistics: no deposit/withdrawal history from the exchange; balance changes are used');
      return [];
    }
    return out;
  }
}

/** Inserts trades (valued in `currency` at their close) and open lots, with their books' labels. */
async function writeRows(c: Queryable, brokerId: string, sandbox: boolean, currency: string, trades: readonly Trade[], lots: readonly OpenLot[]): Promise<void> {
  const labels = await bookLabels(c, [...trades.map((t) => t.ref), ...lots.map((l) => l.ref)]);
  const label = (source: Source, ref: string | null): string => labels.get(`${source}:${ref ?? ''}`) ?? defaultLabel(source, ref);
  // converting a quote currency other than the profile's: its price in the snapshot closest before
  const rates = await quoteRates(c, brokerId, sandbox, currency, [...new Set(trades.map((t) => t.quote).filter((q) => q !== currency))]);
  const s = (x: Decimal | null) => (x === null ? null : x.toFixed());
  for (let i = 0; i < trades.length; i += 500) {
    const chunk = trades.slice(i, i + 500);
    const rows = chunk.map((t) => {
      const rate = t.quote === currency ? new Decimal(1) : rateAt(rates.get(t.quote), t.closedAt);
      return [t.key, t.closingOrderId, t.symbol, t.base, t.quote, t.source, t.ref, t.book, label(t.source, t.ref), t.openedAt.toISOString(), t.closedAt.toISOString(), s(t.amount), s(t.entryPrice), s(t.exitPrice), s(t.cost), s(t.proceeds), s(t.fees), s(t.pnl), s(t.pnlPct), s(t.fromOpening), s(t.unmatched), currency, rate ? t.pnl.times(rate).toFixed() : null, rate ? t.fees.times(rate).toFixed() : null];
    });
    await c.query(
      `INSERT INTO stats_trades (broker_id, sandbox, key, closing_order_id, symbol, base, quote, source, ref, book, book_label, opened_at, closed_at, amount, entry_price, exit_price, cost, proceeds, fees, pnl, pnl_pct, from_opening, unmatched, currency, pnl_value, fees_value)
       SELECT $1, $2, x.* FROM jsonb_to_recordset($3::jsonb) AS x(key text, closing_order_id uuid, symbol text, base text, quote text, source text, ref text, book text, book_label text, opened_at timestamptz, closed_at timestamptz, amount numeric, entry_price numeric, exit_price numeric, cost numeric, proceeds numeric, fees numeric, pnl numeric, pnl_pct numeric, from_opening numeric, unmatched numeric, currency text, pnl_value numeric, fees_value numeric)`,
      [brokerId, sandbox, JSON.stringify(rows.map((r) => Object.fromEntries(TRADE_COLUMNS.map((k, j) => [k, r[j]]))))],
    );
  }
  if (lots.length) {
    await c.query(
      `INSERT INTO stats_lots (broker_id, sandbox, symbol, base, quote, source, ref, book, book_label, quantity, unit_cost, opened_at)
       SELECT $1, $2, x.* FROM jsonb_to_recordset($3::jsonb) AS x(symbol text, base text, quote text, source text, ref text, book text, book_label text, quantity numeric, unit_cost numeric, opened_at timestamptz)`,
      [brokerId, sandbox, JSON.stringify(lots.map((l) => ({ symbol: l.symbol || `${l.base}/${l.quote}`, base: l.base, quote: l.quote, source: l.source, ref: l.ref, book: l.book, book_label: label(l.source, l.ref), quantity: l.quantity.toFixed(), unit_cost: l.unitCost.toFixed(), opened_at: l.openedAt.toISOString() })))],
    );
  }
}

/** What the account held before the app saw it (valued), all assets or `assets`. */
async function loadOpenings(c: Queryable, brokerId: string, sandbox: boolean, assets: string[] | null): Promise<Opening[]> {
  const { rows } = await c.query<{ asset: string; quantity: Decimal; price: Decimal | null; currency: string; seen_at: Date }>(
    'SELECT * FROM stats_openings WHERE broker_id = $1 AND sandbox = $2 AND ($3::text[] IS NULL OR asset = ANY($3::text[])) ORDER BY asset',
    [brokerId, sandbox, assets],
  );
  return rows.filter((r) => r.price !== null).map<Opening>((r) => ({ asset: r.asset, quantity: r.quantity, price: r.price!, currency: r.currency, seenAt: r.seen_at }));
}

const TRADE_COLUMNS = ['key', 'closing_order_id', 'symbol', 'base', 'quote', 'source', 'ref', 'book', 'book_label', 'opened_at', 'closed_at', 'amount', 'entry_price', 'exit_price', 'cost', 'proceeds', 'fees', 'pnl', 'pnl_pct', 'from_opening', 'unmatched', 'currency', 'pnl_value', 'fees_value'];

/**
 * The account's fills with their book: the order's source, the activation (strategy) or the webhook's
 * sender (the alert's `sender` field). With `bases`, only those of markets with these base assets;
 * with `since`, only those executed then or later (the caller keeps those after its last one).
 */
async function loadFills(c: Queryable, brokerId: string, sandbox: boolean, bases: string[] | null = null, since: Date | null = null): Promise<LedgerFill[]> {
  type Row = { id: string; order_id: string | null; symbol: string; side: 'buy' | 'sell'; amount: Decimal; price: Decimal; fee: Decimal | null; fee_currency: string | null; executed_at: Date; source: string | null; source_ref: string | null; sender: string | null };
  const { rows } = await c.query<Row>(
    `SELECT f.id, f.order_id, f.symbol, f.side, f.amount, f.price, f.fee, f.fee_currency, f.executed_at, o.source, o.source_ref,
            COALESCE(w.sender, NULLIF(btrim(w.payload ->> 'sender'), '')) AS sender
       FROM order_fills f
       LEFT JOIN orders o ON o.id = f.order_id
       LEFT JOIN webhook_requests w ON o.source = 'webhook' AND w.id::text = o.source_ref
      WHERE f.broker_id = $1 AND f.sandbox = $2 AND ($3::text[] IS NULL OR split_part(f.symbol, '/', 1) = ANY($3::text[]))
        AND ($4::timestamptz IS NULL OR f.executed_at >= $4::timestamptz)
      ORDER BY f.executed_at, f.created_at, f.id`,
    [brokerId, sandbox, bases, since],
  );
  return rows.map((r) => {
    const source = (r.source ?? 'external') as LedgerFill['source'];
    const sharedWebhookExit = source === 'webhook' && (r.source_ref ?? '').startsWith('position:');
    const ref = source === 'strategy' ? r.source_ref : source === 'webhook' && !sharedWebhookExit ? (r.sender ?? '') : null;
    return { id: r.id, orderId: r.order_id, symbol: r.symbol, ...splitSymbol(r.symbol), side: r.side, amount: r.amount, price: r.price, fee: r.fee, feeCurrency: r.fee_currency, executedAt: r.executed_at, source, ref, sharedWebhookExit };
  });
}

function defaultLabel(source: Source, ref: string | null): string {
  if (source === 'manual') return 'Manual';
  if (source === 'external') return 'Outside the app';
  if (source === 'opening') return 'Held before the app';
  if (source === 'webhook') return ref ? `Webhook · ${ref}` : 'Webhook · (no sender)';
  return `Bot · ${ref ?? '?'}`;
}

/** Activations are named after their strategy, version and market. */
async function bookLabels(c: Queryable, refs: readonly (string | null)[]): Promise<Map<string, string>> {
  const ids = [...new Set(refs.filter((r): r is string => !!r && /^[0-9a-f-]{36}$/i.test(r)))];
  const out = new Map<string, string>();
  if (!ids.length) return out;
  const { rows } = await c.query<{ id: string; strategy_name: string; version: number; symbol: string; timeframe: string }>('SELECT id, strategy_name, version, symbol, timeframe FROM bot_activations WHERE id = ANY($1::uuid[])', [ids]);
  for (const r of rows) out.set(`strategy:${r.id}`, `Bot · ${r.strategy_name} v${r.version} · ${r.symbol} ${r.timeframe}`);
  return out;
}

/** The change of each asset the fills recorded after `since` (all when null) and up to `until` (executed up to `executedUpTo`) explain: base, quote and fee. */
async function netFromFills(c: Queryable, brokerId: string, sandbox: boolean, since: Date | null, until: Date, executedUpTo: Date | null = null): Promise<Map<string, Decimal>> {
  const { rows } = await c.query<{ symbol: string; side: string; amount: Decimal; cost: Decimal; fee: Decimal | null; fee_currency: string | null }>(
    `SELECT symbol, side, sum(amount) AS amount, sum(cost) AS cost, fee_currency, sum(fee) AS fee
       FROM order_fills WHERE broker_id = $1 AND sandbox = $2 AND created_at <= $3 AND ($4::timestamptz IS NULL OR created_at > $4) AND ($5::timestamptz IS NULL OR executed_at <= $5)
      GROUP BY symbol, side, fee_currency`,
    [brokerId, sandbox, until, since, executedUpTo],
  );
  const net = new Map<string, Decimal>();
  const add = (a: string, x: Decimal) => net.set(a, (net.get(a) ?? new Decimal(0)).plus(x));
  for (const r of rows) {
    const { base, quote } = splitSymbol(r.symbol);
    const sign = r.side === 'buy' ? 1 : -1;
    add(base, r.amount.times(sign));
    add(quote, r.cost.times(-sign));
    if (r.fee && r.fee_currency) add(r.fee_currency, r.fee.neg());
  }
  return net;
}

/** Prices of `assets` in `currency` from the exchange's tickers (ASSET/CUR, or CUR/ASSET inverted); an asset no market prices is left out. */
async function priceAssets(ex: Exchange, assets: string[], currency: string): Promise<Map<string, Decimal>> {
  const markets = ex.markets ?? {};
  const want = new Map<string, { symbol: string; inverse: boolean }>();
  for (const a of assets) {
    if (a === currency) continue;
    if (markets[`${a}/${currency}`]) want.set(a, { symbol: `${a}/${currency}`, inverse: false });
    else if (markets[`${currency}/${a}`]) want.set(a, { symbol: `${currency}/${a}`, inverse: true });
  }
  const out = new Map<string, Decimal>();
  if (!want.size) return out;
  const symbols = [...new Set([...want.values()].map((w) => w.symbol))];
  let tickers: Record<string, { last?: unknown; close?: unknown }> = {};
  try {
    if (ex.has.fetchTickers) tickers = (await ex.fetchTickers(symbols)) as typeof tickers;
    else for (const s of symbols.slice(0, 30)) tickers[s] = (await ex.fetchTicker(s)) as (typeof tickers)[string];
  } catch {
    return out; // every asset but the currency itself is then named as missing
  }
  for (const [a, w] of want) {
    const t = tickers[w.symbol];
    const last = dec(t?.last) ?? dec(t?.close);
    if (!last || !last.gt(0)) continue;
    out.set(a, w.inverse ? new Decimal(new D(1).div(last.toFixed()).toDecimalPlaces(18).toFixed()) : last);
  }
  return out;
}

/** Prices of quote currencies in the profile's currency, from the account's snapshots (time-ordered). */
async function quoteRates(c: Queryable, brokerId: string, sandbox: boolean, currency: string, quotes: string[]): Promise<Map<string, { at: number; price: Decimal }[]>> {
  const out = new Map<string, { at: number; price: Decimal }[]>();
  if (!quotes.length) return out;
  const { rows } = await c.query<{ asset: string; taken_at: Date; price: Decimal }>(
    `SELECT q.asset, s.taken_at, (s.balances -> q.asset ->> 'price')::numeric AS price
       FROM equity_snapshots s CROSS JOIN unnest($4::text[]) AS q(asset)
      WHERE s.broker_id = $1 AND s.sandbox = $2 AND s.currency = $3 AND s.balances -> q.asset ->> 'price' IS NOT NULL
      ORDER BY s.taken_at`,
    [brokerId, sandbox, currency, quotes],
  );
  for (const r of rows) {
    const list = out.get(r.asset) ?? [];
    list.push({ at: r.taken_at.getTime(), price: r.price });
    out.set(r.asset, list);
  }
  return out;
}

/** The latest rate at or before `at`, else the first after; null without any. */
function rateAt(list: { at: number; price: Decimal }[] | undefined, at: Date): Decimal | null {
  if (!list?.length) return null;
  let best = list[0]!;
  for (const r of list) {
    if (r.at <= at.getTime()) best = r;
    else break;
  }
  return best.price;
}

/** `ARISTOBOT_STATS_SNAPSHOT_MINUTES`: minutes between scheduled equity snapshots (default 60; 0 = none). */
export function statsIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ARISTOBOT_STATS_SNAPSHOT_MINUTES;
  if (raw === undefined || raw === '') return HOUR_MS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`ARISTOBOT_STATS_SNAPSHOT_MINUTES must be a number of minutes (0 = none), got "${raw}"`);
  return Math.round(n * 60_000);
}
