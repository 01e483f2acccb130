import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { Database } from '../../electron/db/database';
import { silentLogger, type Logger } from '../../electron/log';

export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../migrations');
/** Fixed for the test cluster so concurrent test files agree on it. */
export const TEST_APP_PASSWORD = 'test-app-password';

export interface TestDb {
  db: Database;
  /** Owner URL of this test's own database (for dumps and superuser checks). */
  ownerUrl: string;
  name: string;
  close(): Promise<void>;
}

/** A fresh database on the run's server, migrated, with the app pool connected as the app role. */
export async function createTestDb(log: Logger = silentLogger()): Promise<TestDb> {
  const clusterUrl = inject('pgOwnerUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(clusterUrl);
  u.pathname = `/${name}`;
  const ownerUrl = u.toString();
  const db = await Database.open({ ownerUrl, migrationsDir: MIGRATIONS_DIR, log, appPassword: TEST_APP_PASSWORD });
  return {
    db,
    ownerUrl,
    name,
    close: async () => {
      await db.close();
    },
  };
}

/** Run SQL as the owner of a test database (a superuser: sees everything). */
export async function asOwner<T>(ownerUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
