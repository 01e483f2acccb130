import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { AppError } from '../../shared/errors';
import type { Logger } from '../log';

/**
 * Forward-only migrations: `migrations/NNNN_name.sql`, consecutive ids from 0001, each applied in
 * its own transaction, all under one advisory lock (two processes never migrate at once), with the
 * file's SHA-256 stored. Startup refuses when an applied file has changed or a file is missing.
 */
export interface MigrationFile {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

const LOCK_KEY = 727_271_003; // arbitrary, stable

export async function loadMigrations(dir: string): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: MigrationFile[] = [];
  for (const f of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(f);
    if (!m) throw new AppError('internal', 'errors.db.migrationFileNameNot', { f });
    const sql = await readFile(join(dir, f), 'utf8');
    out.push({ id: Number(m[1]), name: f, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  out.forEach((m, i) => {
    if (m.id !== i + 1) throw new AppError('internal', 'errors.db.migrationsMustNumberedConsecutively', { name: m.name, i: i + 1 });
  });
  return out;
}

export async function migrate(client: pg.Client | pg.PoolClient, files: MigrationFile[], log: Logger): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ id: number; name: string; checksum: string }>('SELECT id, name, checksum FROM schema_migrations ORDER BY id');
    for (const row of rows) {
      const file = files.find((f) => f.id === row.id);
      if (!file) throw new AppError('internal', 'errors.db.databaseHasMigrationApplied', { name: row.name });
      if (file.checksum !== row.checksum)
        throw new AppError('internal', 'errors.db.migrationWasChangedAfter', { name: row.name, checksum: row.checksum.slice(0, 12), checksum2: file.checksum.slice(0, 12) });
    }
    const applied: number[] = [];
    for (const file of files) {
      if (rows.some((r) => r.id === file.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(file.sql);
        await client.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [file.id, file.name, file.checksum]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new AppError('internal', 'errors.db.migrationFailed', { name: file.name, reason: (e as Error).message });
      }
      log.info({ migration: file.name }, 'migration applied');
      applied.push(file.id);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}
