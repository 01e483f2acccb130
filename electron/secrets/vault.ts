import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { Logger } from '../log';
import { assertValidRef, type SecretStore } from './store';

/**
 * The encrypted vault: a SQLCipher database (via better-sqlite3-multiple-ciphers) holding one row
 * per secret (ref → value). Its 256-bit key is derived from a passphrase with scrypt; the salt and
 * the scrypt parameters sit beside it in a small unencrypted key file (`<vault>.key.json`), together
 * with a key-check value so that a wrong passphrase is recognised before the vault is even opened
 * (the vault file is then left byte-for-byte untouched).
 */

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** OWASP's recommendation for scrypt (about 128 MiB and a few hundred ms once per start). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const CHECK_LABEL = 'aristobot3 vault key check v1';

const KeyFileSchema = z.object({
  format: z.literal('aristobot3-vault'),
  version: z.literal(1),
  cipher: z.literal('sqlcipher-4'),
  kdf: z.literal('scrypt'),
  N: z.number().int().min(2 ** 10).max(2 ** 20).refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  salt: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
  check: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
});
type KeyFile = z.infer<typeof KeyFileSchema>;

export interface OpenVaultOptions {
  /** The vault file; its key file is `${path}.key.json`. */
  path: string;
  passphrase: string;
  /** Create the vault (and its folder) when the file does not exist. Default true. */
  create?: boolean;
  /** scrypt parameters for a NEW vault (an existing one keeps those in its key file). */
  kdf?: ScryptParams;
  log?: Logger;
}

/** The key file that belongs to a vault file. */
export function vaultKeyFilePath(vaultPath: string): string {
  return `${vaultPath}.key.json`;
}

function scrypt(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCb(passphrase.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function keyCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update(CHECK_LABEL).digest();
}

function readKeyFile(path: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AppError('unavailable', 'errors.secrets.vaultKeyFileCannot', { path, reason: e instanceof Error ? e.message : String(e) });
  }
  const parsed = KeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('unavailable', 'errors.secrets.vaultKeyFileDamaged', { path });
  }
  return parsed.data;
}

/** Writes a file atomically (temporary file + rename), readable by its owner only. */
function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Opens the SQLCipher database with a raw 256-bit key (no second key derivation). */
function openCipherDb(path: string, key: Buffer, opts: { create: boolean }): Database.Database {
  const db = new Database(path, { fileMustExist: !opts.create });
  try {
    db.pragma(`cipher = 'sqlcipher'`);
    db.pragma('legacy = 4');
    db.pragma(`key = "x'${key.toString('hex')}'"`);
    // The first read decrypts page 1: SQLITE_NOTADB here means the key does not fit the file.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens (or creates) the vault. Wrong passphrase → AppError('wrong_password'), nothing written. */
export async function openVault(opts: OpenVaultOptions): Promise<VaultSecretStore> {
  const { path, passphrase, log } = opts;
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new AppError('invalid_input', 'errors.secrets.vaultPassphraseEmptySet');
  }
  const keyPath = vaultKeyFilePath(path);

  if (!existsSync(path)) {
    if (opts.create === false) throw new AppError('not_found', 'errors.secrets.thereNoVault', { path });
    return createVault(path, keyPath, passphrase, opts.kdf ?? DEFAULT_SCRYPT, log);
  }

  if (!existsSync(keyPath)) {
    throw new AppError('unavailable', 'errors.secrets.vaultKeyFileMissing', { keyPath, path });
  }
  const header = readKeyFile(keyPath);
  const key = await scrypt(passphrase, Buffer.from(header.salt, 'base64'), header);
  try {
    const expected = Buffer.from(header.check, 'base64');
    const actual = keyCheck(key);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new AppError('wrong_password', 'errors.secrets.vaultPassphraseWrongDoes', { path });
    }
    let db: Database.Database;
    try {
      db = openCipherDb(path, key, { create: false });
    } catch (e) {
      throw new AppError('unavailable', 'errors.secrets.vaultCannotOpenedAlthough', { path, reason: e instanceof Error ? e.message : String(e) });
    }
    const store = new VaultSecretStore(db, path, log);
    log?.info({ path }, 'secrets vault opened');
    return store;
  } finally {
    key.fill(0);
  }
}

async function createVault(path: string, keyPath: string, passphrase: string, kdf: ScryptParams, log: Logger | undefined): Promise<VaultSecretStore> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(passphrase, salt, kdf);
  try {
    const header: KeyFile = {
      format: 'aristobot3-vault',
      version: 1,
      cipher: 'sqlcipher-4',
      kdf: 'scrypt',
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      salt: salt.toString('base64'),
      check: keyCheck(key).toString('base64'),
    };
    KeyFileSchema.parse(header);
    // Key file first: a crash after it leaves no vault file, and the next start simply creates one.
    writePrivateFile(keyPath, `${JSON.stringify(header, null, 2)}\n`);
    const tmpPath = `${path}.${process.pid}.creating`;
    rmSync(tmpPath, { force: true });
    const db = openCipherDb(tmpPath, key, { create: true });
    try {
      db.exec('CREATE TABLE secrets (ref TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL)');
    } finally {
      db.close();
    }
    chmodSync(tmpPath, 0o600);
    renameSync(tmpPath, path);
    const store = new VaultSecretStore(openCipherDb(path, key, { create: false }), path, log);
    log?.info({ path }, 'secrets vault created');
    return store;
  } finally {
    key.fill(0);
  }
}

/** Secrets in the encrypted vault file. Use `openVault()` to get one. */
export class VaultSecretStore implements SecretStore {
  readonly backend = 'vault' as const;
  private db: Database.Database | null;

  constructor(
    db: Database.Database,
    readonly path: string,
    private readonly log?: Logger,
  ) {
    this.db = db;
    db.pragma('secure_delete = ON');
    db.pragma('busy_timeout = 5000');
  }

  async set(ref: string, value: string): Promise<void> {
    assertValidRef(ref);
    if (typeof value !== 'string') throw new AppError('invalid_input', 'errors.secrets.secretValueMustString');
    this.open()
      .prepare('INSERT INTO secrets (ref, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (ref) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(ref, value, new Date().toISOString());
    this.log?.debug({ ref, backend: 'vault' }, 'secret stored');
  }

  async get(ref: string): Promise<string | null> {
    assertValidRef(ref);
    const row = this.open().prepare('SELECT value FROM secrets WHERE ref = ?').get(ref) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async delete(ref: string): Promise<void> {
    assertValidRef(ref);
    const { changes } = this.open().prepare('DELETE FROM secrets WHERE ref = ?').run(ref);
    this.log?.debug({ ref, backend: 'vault', existed: changes > 0 }, 'secret deleted');
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }

  private open(): Database.Database {
    if (!this.db) throw new AppError('unavailable', 'errors.secrets.secretsVaultClosed');
    return this.db;
  }
}
