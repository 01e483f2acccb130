import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startBundledPostgres, type BundledPostgres } from '../../electron/db/bundled';
import { createLogger } from '../../electron/log';

/** One bundled PostgreSQL server per test run; each test file makes its own database on it. */
let server: BundledPostgres | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'aristobot-test-pg-'));
  server = await startBundledPostgres({ dataDir: dir, log: createLogger({ level: 'warn' }) });
  project.provide('pgOwnerUrl', server.ownerUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgOwnerUrl: string;
  }
}
