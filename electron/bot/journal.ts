import type { PoolClient, QueryResult } from 'pg';
import type { Database } from '../db/database';
import { inlineParams } from '../db/one-trip';
import type { Params } from '../../shared/i18n';
import type { DecisionKind, DecisionRow, Leg } from './store';

/**
 * The decisions journal's writer on the signal path: the decisions of every activation of a
 * profile that are ready at the same moment (a burst of closings) go into ONE statement in one
 * transaction (a prepared multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING *`), instead of one
 * transaction of four round trips each, and that transaction is ONE round trip (db/one-trip.ts:
 * `BEGIN; set_config…; INSERT…; COMMIT` in one message). A batch is written as soon as the
 * callback that made it (and the promise continuations it started) is done — `process.nextTick`,
 * which runs once the microtasks are drained and before the event loop reads anything else —
 * beside any batch still in flight (each on its own pooled connection): a later decision never
 * waits for an earlier batch's answer.
 *
 * The transaction commits with `synchronous_commit = off`: it does not wait for its own WAL flush.
 * The guarantee "journaled before sent" still holds, because the order service journals the order
 * (its intent) with a synchronous commit before sending it, and PostgreSQL flushes the WAL in order:
 * an order that is durable has its decision durable too. A crash of the server between the
 * decision and the order's journal loses a decision no order was placed for (as a crash a moment
 * earlier would). A failed batch is retried row by row, so one bad row fails alone.
 *
 * The journal keeps its connections (up to `KEEP`, taken from the pool once and held, warmed at the
 * engine's start): a burst comes once a timeframe, longer apart than the pool keeps an idle
 * connection, and opening one (TCP, SCRAM authentication, the session's set-up) took ~10 ms on
 * the signal path of the first decisions of each burst.
 */
export interface JournalEntry {
  profileId: string;
  activationId: string;
  kind: DecisionKind;
  candleTime: number;
  action: string;
  reason: string;
  status: DecisionRow['status'];
  error: string | null;
  plan: Leg[];
  /** The reason's and the error's catalogue keys and parameters (electron/bot/text.ts). */
  reasonKey: string | null;
  reasonParams: Params | null;
  errorKey: string | null;
  errorParams: Params | null;
}

interface Waiting {
  e: JournalEntry;
  resolve: (r: DecisionRow | null) => void;
  reject: (e: unknown) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const INSERT = {
  name: 'aristobot.bot.journal.2',
  text: `WITH ins AS (
      INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, error, plan, reason_key, reason_params, error_key, error_params)
      SELECT a, k, to_timestamp(t / 1000), ac, r, s, e, p, rk, rp, ek, ep
        FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::jsonb[], $11::text[], $12::jsonb[]) AS x(a, k, t, ac, r, s, e, p, rk, rp, ek, ep)
      ON CONFLICT (activation_id, kind, candle_time) WHERE kind IN ('signal', 'stop_loss', 'take_profit', 'skipped') DO NOTHING RETURNING *),
    touched AS (UPDATE bot_activations SET last_decision_at = now() WHERE id IN (SELECT activation_id FROM ins))
    SELECT * FROM ins`,
};

const keyOf = (activationId: string, kind: string, candleTime: number) => `${activationId}|${kind}|${candleTime}`;

const KEEP = 2;

export class DecisionJournal {
  private readonly queued = new Map<string, Waiting[]>();
  /** Held connections not in use. */
  private readonly spare: PoolClient[] = [];
  /** Every held connection (spare or in use), with its 'error' listener. */
  private readonly mine = new Map<PoolClient, () => void>();
  private closed = false;
  /** Connections a write found dead (see `write`). */
  private readonly dead = new WeakSet<PoolClient>();

  constructor(private readonly db: Pick<Database, 'pool'>) {}

  /** Opens the connections the journal keeps (at the engine's start); a failure is left to the first write. */
  async warm(): Promise<void> {
    this.closed = false;
    while (this.mine.size < KEEP && !this.closed) {
      const c = await this.db.pool.connect();
      this.hold(c);
      this.give(c, false);
    }
  }

  /** Gives the held connections back to the pool. */
  close(): void {
    this.closed = true;
    for (const c of this.spare.splice(0)) {
      this.unhold(c);
      c.release();
    }
  }

  /** A held connection if one is free, else a new one from the pool (held if fewer than KEEP are). */
  private async take(): Promise<PoolClient> {
    const spare = this.spare.pop();
    if (spare) return spare;
    const c = await this.db.pool.connect();
    if (this.mine.size < KEEP && !this.closed) this.hold(c);
    return c;
  }

  /** Keeps `c` (a connection the server drops while held is let go at once). */
  private hold(c: PoolClient): void {
    const onError = () => this.drop(c);
    this.mine.set(c, onError);
    c.on('error', onError);
  }

  /**
   * No longer kept; false when it was not. A healthy connection going back to the pool loses the
   * listener; a dead one keeps it (a dropped connection may emit 'error' more than once).
   */
  private unhold(c: PoolClient, dead = false): boolean {
    const onError = this.mine.get(c);
    if (!onError) return false;
    this.mine.delete(c);
    if (!dead) c.off('error', onError);
    return true;
  }

  /** Back to the spares (a held connection) or to the pool; `broken`: destroyed. */
  private give(c: PoolClient, broken: boolean): void {
    const held = this.mine.has(c);
    if (broken) {
      if (held) this.drop(c);
      else c.release(true);
      return;
    }
    if (held && !this.closed) this.spare.push(c);
    else {
      this.unhold(c);
      c.release();
    }
  }

  private drop(c: PoolClient): void {
    if (!this.unhold(c, true)) return;
    const i = this.spare.indexOf(c);
    if (i >= 0) this.spare.splice(i, 1);
    try {
      c.release(true);
    } catch {
      // released already
    }
  }

  /** The decision's row once committed; null when that (activation, kind, candle) was journaled before. */
  insert(e: JournalEntry): Promise<DecisionRow | null> {
    return new Promise((resolve, reject) => {
      let q = this.queued.get(e.profileId);
      if (!q) this.queued.set(e.profileId, (q = []));
      q.push({ e, resolve, reject });
      // the first of a burst waits until the work under way is done — the current callback (a
      // network read of the stream: many closing messages) and the promise continuations it
      // started (the decisions of its symbols) — so the decisions ready together are written
      // together; not for the next turn of the event loop (setImmediate), which comes only after
      // every other read ready meanwhile (the rest of a burst: tens of milliseconds)
      if (q.length === 1) process.nextTick(() => void this.flush(e.profileId));
    });
  }

  private async flush(profileId: string): Promise<void> {
    const batch = this.queued.get(profileId) ?? [];
    this.queued.delete(profileId);
    if (batch.length === 0) return;
    try {
      const rows = await this.write(profileId, batch.map((w) => w.e));
      const byKey = new Map(rows.map((r) => [keyOf(r.activation_id, r.kind, r.candle_time.getTime()), r]));
      for (const w of batch) w.resolve(byKey.get(keyOf(w.e.activationId, w.e.kind, w.e.candleTime)) ?? null);
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else {
        for (const w of batch) {
          try {
            w.resolve((await this.write(profileId, [w.e]))[0] ?? null);
          } catch (e) {
            w.reject(e);
          }
        }
      }
    }
  }

  /**
   * Writes a batch; on a connection that turns out dead (dropped by the server a moment ago, its
   * 'error' not seen yet: the ROLLBACK fails too), again on another, twice at most. Should the dead
   * one have committed before it died, the batch's rows are there and come back as journaled
   * before (the unique key): their decisions stay 'pending', and the reconcile pass takes them up.
   */
  private async write(profileId: string, es: JournalEntry[]): Promise<DecisionRow[]> {
    if (!UUID.test(profileId)) throw new Error('invalid profile id');
    for (let attempt = 0; ; attempt++) {
      const c = await this.take();
      const r = await this.writeOn(c, profileId, es).then(
        (rows) => ({ rows }),
        (e: unknown) => ({ e }),
      );
      if ('rows' in r) return r.rows;
      if (!this.dead.has(c) || attempt >= 2) throw r.e;
      this.dead.delete(c);
    }
  }

  private async writeOn(c: PoolClient, profileId: string, es: JournalEntry[]): Promise<DecisionRow[]> {
    let broken = false;
    try {
      try {
        const q = {
          ...INSERT,
          values: [
            es.map((e) => e.activationId),
            es.map((e) => e.kind),
            es.map((e) => e.candleTime),
            es.map((e) => e.action),
            es.map((e) => e.reason),
            es.map((e) => e.status),
            es.map((e) => e.error),
            es.map((e) => JSON.stringify(e.plan)),
            es.map((e) => e.reasonKey),
            es.map((e) => (e.reasonParams ? JSON.stringify(e.reasonParams) : null)),
            es.map((e) => e.errorKey),
            es.map((e) => (e.errorParams ? JSON.stringify(e.errorParams) : null)),
          ],
        };
        // ONE round trip (one simple-protocol message, db/one-trip.ts): the transaction, its
        // profile (RLS), its commit mode, the INSERT with its values as literals, the commit
        const r = (await c.query(`BEGIN; SELECT set_config('aristobot.profile_id', '${profileId}', true), set_config('synchronous_commit', 'off', true); ${inlineParams(q.text, q.values)}; COMMIT`)) as unknown as QueryResult<DecisionRow>[];
        return r[2]!.rows;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => (broken = true));
        throw e;
      }
    } finally {
      if (broken) this.dead.add(c);
      this.give(c, broken);
    }
  }
}
