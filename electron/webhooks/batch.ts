import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Database } from '../db/database';
import * as store from './store';

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
 */
type Job =
  | { kind: 'fn'; fn: (c: pg.PoolClient) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'insert'; row: store.NewRow; then: (c: pg.PoolClient, row: store.RequestRow | null) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'status'; change: store.StatusChange; resolve: (v: unknown) => void; reject: (e: unknown) => void };

type Outcome = { ok: boolean; value: unknown };

export class JournalBatcher {
  private readonly queues = new Map<string, Job[]>();
  private readonly flushing = new Set<string>();
  /** Batches committed and requests they carried (the bench prints them). */
  readonly counters = { batches: 0, jobs: 0 };

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 500,
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
    return this.push<T>(profileId, (resolve, reject) => ({ kind: 'insert', row, then: then ?? (async (_c, x) => x), resolve, reject }));
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
      if (!this.flushing.has(profileId)) void this.flush(profileId);
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
        out.push({ ok: true, value: await j.then(c, s ? store.rowOf(j.row, s) : null) });
      } else out.push({ ok: true, value: undefined });
    }
    return out;
  }

  private async one(c: pg.PoolClient, j: Job): Promise<unknown> {
    if (j.kind === 'fn') return j.fn(c);
    if (j.kind === 'insert') return j.then(c, await store.insertRequest(c, j.row));
    await store.setRequestStatuses(c, [j.change]);
    return undefined;
  }

  private async flush(profileId: string): Promise<void> {
    this.flushing.add(profileId);
    try {
      for (;;) {
        const q = this.queues.get(profileId);
        if (!q?.length) break;
        const jobs = q.splice(0, this.maxBatch);
        let results: Outcome[];
        try {
          results = await this.db.withProfile(profileId, (c) => this.together(c, jobs));
        } catch {
          try {
            results = await this.db.withProfile(profileId, async (c) => {
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
            continue;
          }
        }
        this.counters.batches++;
        this.counters.jobs += jobs.length;
        jobs.forEach((job, i) => (results[i]!.ok ? job.resolve(results[i]!.value) : job.reject(results[i]!.value)));
      }
    } finally {
      this.flushing.delete(profileId);
      if (this.queues.get(profileId)?.length) void this.flush(profileId);
      else this.queues.delete(profileId);
    }
  }
}
