import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../db/database';
import { sqlLiteral } from '../db/one-trip';
import * as store from './store';

const { DatabaseError } = pg;

/**
 * Group commit for the webhook journal: work queued while a commit is under way runs together in the
 * next transaction (one per profile). Every caller still resolves only after ITS rows are committed
 * (synchronous commit: "journaled before answered" holds), but a burst pays one disk flush per batch
 * instead of one per request, and few round trips: the batch's receipts go in ONE multi-row INSERT
 * (`insert`, in arrival order, so the journal keeps it) and its status changes in ONE UPDATE
 * (`status`); the rest (`run`, and each receipt's follow-up: a PING's sender, a duplicate's lookup)
 * runs after them, in order, in the same transaction. When anything in the batch fails, the
 * transaction is rolled back and the batch redone piece by piece, each inside its own SAVEPOINT, so
 * one failure fails only its own request.
 *
 * The common batch (receipts whose only follow-up is for a duplicate, and status changes of distinct
 * requests) is ONE round trip: `BEGIN; set_config(profile); INSERT …; UPDATE …; COMMIT` in one
 * simple-protocol message with the values inlined as literals (db/one-trip.ts), instead of five. A
 * receipt whose dedupe key was journaled before (by an earlier batch, or earlier in this one) then
 * runs its duplicate follow-up at the head of the next batch, in its own transaction: its caller
 * still resolves only after the duplicate's own row is committed. Batches with other work (`run`,
 * an insert's general follow-up such as a PING's sender) take the general path above.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Job =
  | { kind: 'fn'; fn: (c: pg.PoolClient) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  | {
      kind: 'insert';
      row: store.NewRow;
      /** A general follow-up, in the batch's transaction (the general path). */
      then: ((c: pg.PoolClient, row: store.RequestRow | null) => Promise<unknown>) | null;
      /** Only when the dedupe key was journaled before: may run in a later transaction (the one-trip path). */
      dup: ((c: pg.PoolClient) => Promise<unknown>) | null;
      resolve: (v: unknown) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'status'; change: store.StatusChange; resolve: (v: unknown) => void; reject: (e: unknown) => void };

type Outcome = { ok: boolean; value: unknown };

/** The rows a job touches: a request by id (status change), a dedupe key (receipt). */
const keysOf = (j: Job): string[] => (j.kind === 'status' ? [`r:${j.change.id}`] : j.kind === 'insert' && j.row.dedupeKey !== null ? [`d:${j.row.dedupeKey}`] : []);

export class JournalBatcher {
  private readonly queues = new Map<string, Job[]>();
  /** Batches under way per profile, and whether one of them runs alone (the general path). */
  private readonly inFlight = new Map<string, { n: number; alone: boolean; keys: Set<string> }>();
  /** Batches committed and requests they carried; `oneTrip` of them in one round trip (the bench prints them). */
  readonly counters = { batches: 0, jobs: 0, oneTrip: 0 };

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 500,
    /**
     * One-trip batches of a profile under way at once (each on its own pooled connection): the next
     * batch is written while the previous one waits for its disk flush (PostgreSQL flushes the WAL of
     * concurrent commits together) and while its callers are answered. A batch that touches a request
     * (status change) or a dedupe key that a batch under way touches waits for it, so changes of one
     * request apply in call order and the first of two same ids stays the request. A general-path
     * batch (other work, in call order) runs alone. Default 1: on the 2-core bench machine under load,
     * 2 made batches smaller and cost more CPU per request (listener +20 %, PostgreSQL +70 %) for no
     * gain in requests per second; worth measuring again on a quiet machine (bench/webhooks.bench.ts).
     */
    private readonly maxInFlight = 1,
  ) {}

  /** Any work on the journal, in the batch's transaction. */
  run<T>(profileId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.push<T>(profileId, (resolve, reject) => ({ kind: 'fn', fn, resolve, reject }));
  }

  /**
   * Journals a request (part of the batch's one INSERT); `then` runs in the same transaction with its
   * row, or null when its dedupe key was journaled before. Resolves with what `then` returns.
   */
  insert<T = store.RequestRow | null>(profileId: string, r: store.NewRequest, then?: (c: pg.PoolClient, row: store.RequestRow | null) => Promise<T>): Promise<T> {
    const row = { ...r, id: randomUUID() };
    return this.push<T>(profileId, (resolve, reject) => ({ kind: 'insert', row, then: then ?? (async (_c, x) => x), dup: null, resolve, reject }));
  }

  /**
   * Journals a request and resolves with its committed row; when its dedupe key was journaled before,
   * with what `duplicate` returns instead (run in a transaction of its own, after the batch's commit).
   */
  receipt<D>(profileId: string, r: store.NewRequest, duplicate: (c: pg.PoolClient) => Promise<D>): Promise<{ row: store.RequestRow } | { duplicate: D }> {
    const row = { ...r, id: randomUUID() };
    return this.push(profileId, (resolve, reject) => ({ kind: 'insert', row, then: null, dup: async (c) => ({ duplicate: await duplicate(c) }), resolve, reject }));
  }

  /** A request's status change (part of the batch's one UPDATE). */
  status(profileId: string, change: store.StatusChange): Promise<void> {
    return this.push<void>(profileId, (resolve, reject) => ({ kind: 'status', change, resolve, reject }));
  }

  private push<T>(profileId: string, make: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const q = this.queues.get(profileId) ?? [];
      q.push(make(resolve as (v: unknown) => void, reject));
      this.queues.set(profileId, q);
      this.pump(profileId);
    });
  }

  /** The whole batch at once: one INSERT, one UPDATE, then the rest in order. Throws when anything fails. */
  private async together(c: pg.PoolClient, jobs: Job[]): Promise<Outcome[]> {
    const inserts = jobs.flatMap((j) => (j.kind === 'insert' ? [j.row] : []));
    const set = inserts.length ? await store.insertRequests(c, inserts) : new Map<string, store.Inserted>();
    const changes = jobs.flatMap((j) => (j.kind === 'status' ? [j.change] : []));
    if (new Set(changes.map((x) => x.id)).size === changes.length) {
      if (changes.length) await store.setRequestStatuses(c, changes);
    } else {
      // The same request twice in one batch: its changes applied one after the other, in order.
      for (const ch of changes) await store.setRequestStatuses(c, [ch]);
    }
    const out: Outcome[] = [];
    for (const j of jobs) {
      if (j.kind === 'fn') out.push({ ok: true, value: await j.fn(c) });
      else if (j.kind === 'insert') {
        const s = set.get(j.row.id);
        out.push({ ok: true, value: await this.follow(c, j, s ? store.rowOf(j.row, s) : null) });
      } else out.push({ ok: true, value: undefined });
    }
    return out;
  }

  /** An insert's answer in the transaction that journaled it (the general path). */
  private async follow(c: pg.PoolClient, j: Extract<Job, { kind: 'insert' }>, row: store.RequestRow | null): Promise<unknown> {
    if (j.then) return j.then(c, row);
    return row ? { row } : j.dup!(c);
  }

  /** Whether the batch can go in one round trip: receipts without general follow-up, status changes of distinct requests. */
  private static oneTrip(jobs: Job[]): boolean {
    const ids = new Set<string>();
    for (const j of jobs) {
      if (j.kind === 'fn' || (j.kind === 'insert' && j.then)) return false;
      if (j.kind === 'status') {
        if (ids.has(j.change.id)) return false;
        ids.add(j.change.id);
      }
    }
    return true;
  }

  /**
   * The batch in ONE round trip and one transaction. Resolves with each job's outcome, except the
   * receipts whose dedupe key was taken: their duplicate follow-up is returned to be run next.
   * Throws (after a ROLLBACK) when anything fails: nothing of the batch is then stored.
   */
  private async writeOneTrip(profileId: string, jobs: Job[]): Promise<{ out: (Outcome | null)[]; dups: Job[] }> {
    if (!UUID.test(profileId)) throw new Error('invalid profile id');
    const inserts = jobs.flatMap((j) => (j.kind === 'insert' ? [j.row] : []));
    const changes = jobs.flatMap((j) => (j.kind === 'status' ? [j.change] : []));
    const parts = [`BEGIN; SELECT set_config('aristobot.profile_id', ${sqlLiteral(profileId)}, true)`];
    if (inserts.length) parts.push(store.insertRequestsText(inserts));
    if (changes.length) parts.push(store.setRequestStatusesText(changes));
    const c = await this.db.pool.connect();
    let results: pg.QueryResult[];
    try {
      try {
        results = (await c.query(`${parts.join('; ')}; COMMIT`)) as unknown as pg.QueryResult[];
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    } finally {
      c.release();
    }
    const set = inserts.length ? store.insertedOf(results[2]!.rows as (store.Inserted & { id: string })[]) : new Map<string, store.Inserted>();
    const out: (Outcome | null)[] = [];
    const dups: Job[] = [];
    for (const j of jobs) {
      if (j.kind !== 'insert') out.push({ ok: true, value: undefined });
      else {
        const s = set.get(j.row.id);
        if (s) out.push({ ok: true, value: { row: store.rowOf(j.row, s) } });
        else {
          out.push(null);
          dups.push({ kind: 'fn', fn: j.dup!, resolve: j.resolve, reject: j.reject });
        }
      }
    }
    return { out, dups };
  }

  private async one(c: pg.PoolClient, j: Job): Promise<unknown> {
    if (j.kind === 'fn') return j.fn(c);
    if (j.kind === 'insert') return this.follow(c, j, await store.insertRequest(c, j.row));
    await store.setRequestStatuses(c, [j.change]);
    return undefined;
  }

  /** Starts the next batches of a profile while there is room. */
  private pump(profileId: string): void {
    for (;;) {
      const q = this.queues.get(profileId);
      if (!q?.length) {
        this.queues.delete(profileId);
        return;
      }
      const f = this.inFlight.get(profileId) ?? { n: 0, alone: false, keys: new Set<string>() };
      if (f.alone || f.n >= this.maxInFlight) return;
      const n = Math.min(q.length, this.maxBatch);
      const head = q.slice(0, n);
      const one = JournalBatcher.oneTrip(head);
      if (!one && f.n > 0) return; // the general path waits for the batches under way, then runs alone
      const keys = head.flatMap(keysOf);
      if (f.n > 0 && keys.some((k) => f.keys.has(k))) return; // waits for the batch touching the same rows
      q.splice(0, n);
      for (const k of keys) f.keys.add(k);
      this.inFlight.set(profileId, { n: f.n + 1, alone: !one, keys: f.keys });
      void this.flush(profileId, head, one).finally(() => {
        const g = this.inFlight.get(profileId)!;
        for (const k of keys) g.keys.delete(k);
        if (g.n <= 1) this.inFlight.delete(profileId);
        else g.n--;
        this.pump(profileId);
      });
    }
  }

  /** Writes one batch and answers its callers. Never throws. */
  private async flush(profileId: string, jobs: Job[], one: boolean): Promise<void> {
    let results: (Outcome | null)[];
    if (one) {
      try {
        const { out, dups } = await this.writeOneTrip(profileId, jobs);
        results = out;
        this.counters.oneTrip++;
        // each duplicate's follow-up first in the next batch (its caller waits for it)
        if (dups.length) this.queues.set(profileId, [...dups, ...(this.queues.get(profileId) ?? [])]);
      } catch (e) {
        if (!(e instanceof DatabaseError)) {
          // The connection failed, not a statement: whether the COMMIT ran is unknown, so nothing is
          // redone (a sender's retry is deduplicated by its alert id); every caller gets the failure.
          for (const job of jobs) job.reject(e);
          return;
        }
        // PostgreSQL refused a statement: the rest of the message, COMMIT included, was skipped and
        // rolled back; the general path redoes the batch, piece by piece if need be.
        results = await this.general(profileId, jobs);
      }
    } else results = await this.general(profileId, jobs);
    if (!results.length) return;
    this.counters.batches++;
    this.counters.jobs += results.filter(Boolean).length;
    jobs.forEach((job, i) => {
      const r = results[i];
      if (r?.ok) job.resolve(r.value);
      else if (r) job.reject(r.value);
    });
  }

  /**
   * The general path: the whole batch in one transaction; when anything fails, redone piece by piece,
   * each inside its own SAVEPOINT. Returns [] when the commit itself failed (every job rejected).
   */
  private async general(profileId: string, jobs: Job[]): Promise<Outcome[]> {
    try {
      return await this.db.withProfile(profileId, (c) => this.together(c, jobs));
    } catch {
      try {
        return await this.db.withProfile(profileId, async (c) => {
          const out: Outcome[] = [];
          for (const [i, job] of jobs.entries()) {
            await c.query(`SAVEPOINT j${i}`);
            try {
              out.push({ ok: true, value: await this.one(c, job) });
              await c.query(`RELEASE SAVEPOINT j${i}`);
            } catch (e) {
              out.push({ ok: false, value: e });
              await c.query(`ROLLBACK TO SAVEPOINT j${i}`);
            }
          }
          return out;
        });
      } catch (e) {
        // The commit itself failed: nothing of this batch is stored.
        for (const job of jobs) job.reject(e);
        return [];
      }
    }
  }
}
