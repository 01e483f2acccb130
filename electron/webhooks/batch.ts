import type pg from 'pg';
import type { Database } from '../db/database';

/**
 * Group commit for the webhook journal: work queued while a commit is under way runs together in the
 * next transaction (one per profile), each piece inside its own SAVEPOINT so one failure fails only
 * its own request. Every caller still resolves only after ITS rows are committed (synchronous commit:
 * "journaled before answered" holds), but a burst pays one disk flush per batch instead of one per
 * request.
 */
interface Job {
  fn: (c: pg.PoolClient) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class JournalBatcher {
  private readonly queues = new Map<string, Job[]>();
  private readonly flushing = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 200,
  ) {}

  run<T>(profileId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const q = this.queues.get(profileId) ?? [];
      q.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.queues.set(profileId, q);
      if (!this.flushing.has(profileId)) void this.flush(profileId);
    });
  }

  private async flush(profileId: string): Promise<void> {
    this.flushing.add(profileId);
    try {
      for (;;) {
        const q = this.queues.get(profileId);
        if (!q?.length) break;
        const jobs = q.splice(0, this.maxBatch);
        let results: { ok: boolean; value: unknown }[];
        try {
          // Fast path: the whole batch in one transaction; any failure rolls it back and the batch is redone piece by piece.
          results = await this.db.withProfile(profileId, async (c) => {
            const out: { ok: boolean; value: unknown }[] = [];
            for (const job of jobs) out.push({ ok: true, value: await job.fn(c) });
            return out;
          });
        } catch {
          try {
            results = await this.db.withProfile(profileId, async (c) => {
              const out: { ok: boolean; value: unknown }[] = [];
              for (const [i, job] of jobs.entries()) {
                await c.query(`SAVEPOINT j${i}`);
                try {
                  out.push({ ok: true, value: await job.fn(c) });
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
        jobs.forEach((job, i) => (results[i]!.ok ? job.resolve(results[i]!.value) : job.reject(results[i]!.value)));
      }
    } finally {
      this.flushing.delete(profileId);
      if (this.queues.get(profileId)?.length) void this.flush(profileId);
      else this.queues.delete(profileId);
    }
  }
}
