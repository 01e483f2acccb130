import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.ARISTOBOT_LOG_LEVEL ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'aristobot3' } };
  if (opts.file) return pino(base, pino.destination({ dest: opts.file, sync: true, mkdir: true }));
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    const transport = pino.transport({
      target: 'pino-roll',
      options: { file: join(opts.dir, 'aristobot'), extension: '.log', frequency: 'daily', size: '10m', mkdir: true, limit: { count: 14 } },
    });
    return pino(base, transport);
  }
  return pino(base, pino.destination(2));
}

/** A logger that discards everything (for small unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
