import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Field names whose values are secrets. The logger itself replaces them, wherever they sit in the
 * first three levels of a log object, so a careless `log.info({ broker })` cannot leak a key.
 */
const SECRET_KEYS = ['password', 'currentPassword', 'newPassword', 'secret', 'apiKey', 'privateKey', 'passphrase', 'token', 'credentials', 'uid', 'authorization', 'Authorization', 'ownerUrl', 'connectionString'];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  /** Folder for rotated log files; when absent, logs go to stderr only (tests, CLI). */
  dir?: string;
  level?: string;
  /** Synchronous single file (tests read it back); overrides `dir`. */
  file?: string;
}

/**
 * Log files are private like the data folder they sit in: the folder 0700, each file 0600 (files of
 * an older version are tightened at start). A no-op on Windows, whose ACLs come from the parent.
 */
function privateLogDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isFile()) chmodSync(p, 0o600);
  }
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.ARISTOBOT_LOG_LEVEL ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'aristobot3' } };
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    return pino(base, pino.destination({ dest: opts.file, sync: true, mode: 0o600 }));
  }
  if (opts.dir) {
    privateLogDir(opts.dir);
    const transport = pino.transport({
      target: 'pino-roll',
      options: { file: join(opts.dir, 'aristobot'), extension: '.log', frequency: 'daily', size: '10m', mkdir: true, mode: 0o600, limit: { count: 14 } },
    });
    return pino(base, transport);
  }
  return pino(base, pino.destination(2));
}

/** A logger that discards everything (for small unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
