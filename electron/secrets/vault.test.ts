import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { newSecretRef } from './store';
import { DEFAULT_SCRYPT, openVault, vaultKeyFilePath, type ScryptParams } from './vault';

// Cheap scrypt for most tests (one test uses the real default).
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };
const PASS = 'correct horse battery staple';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aristobot-vault-'));
  path = join(dir, 'nested', 'secrets.vault');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

describe('vault', () => {
  it('creates a new vault (file and key file, owner-only) and round-trips values', async () => {
    const vault = await openVault({ path, passphrase: PASS, kdf: FAST });
    expect(vault.backend).toBe('vault');
    expect(existsSync(path)).toBe(true);
    expect(existsSync(vaultKeyFilePath(path))).toBe(true);
    if (process.platform !== 'win32') {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(vaultKeyFilePath(path)).mode & 0o777).toBe(0o600);
    }
    const ref = newSecretRef();
    expect(await vault.get(ref)).toBeNull();
    await vault.set(ref, 'first');
    expect(await vault.get(ref)).toBe('first');
    await vault.set(ref, 'second');
    expect(await vault.get(ref)).toBe('second');
    const uni = newSecretRef();
    await vault.set(uni, 'clé 🔑 秘密 \u0000 end');
    expect(await vault.get(uni)).toBe('clé 🔑 秘密 \u0000 end');
    await vault.delete(ref);
    expect(await vault.get(ref)).toBeNull();
    await vault.delete(ref); // absent: no error
    expect(await vault.get(uni)).toBe('clé 🔑 秘密 \u0000 end');
    await vault.close();
    await expect(vault.get(uni)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('reopens with the right passphrase and keeps the values', async () => {
    const refs = Array.from({ length: 5 }, () => newSecretRef());
    const v1 = await openVault({ path, passphrase: PASS, kdf: FAST });
    for (const [i, ref] of refs.entries()) await v1.set(ref, `value-${i}`);
    await v1.close();
    const keyFileBefore = sha256(vaultKeyFilePath(path));
    // kdf is ignored for an existing vault: the key file's parameters are used.
    const v2 = await openVault({ path, passphrase: PASS, kdf: { N: 2048, r: 8, p: 1 } });
    for (const [i, ref] of refs.entries()) expect(await v2.get(ref)).toBe(`value-${i}`);
    await v2.close();
    expect(sha256(vaultKeyFilePath(path))).toBe(keyFileBefore);
  });

  it('refuses a wrong passphrase with a clear error and leaves both files byte-for-byte untouched', async () => {
    const ref = newSecretRef();
    const v1 = await openVault({ path, passphrase: PASS, kdf: FAST });
    await v1.set(ref, 'kept');
    await v1.close();
    const before = { vault: sha256(path), key: sha256(vaultKeyFilePath(path)), files: readdirSync(join(dir, 'nested')).sort() };

    const wrong = 'Tr0ub4dor&3-wrong';
    const err = await rejection(openVault({ path, passphrase: wrong, kdf: FAST }));
    expect(err.code).toBe('wrong_password');
    expect(err.message).toMatch(/^The vault passphrase is wrong/);
    expect(err.message).toContain(path);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(PASS);

    expect(sha256(path)).toBe(before.vault);
    expect(sha256(vaultKeyFilePath(path))).toBe(before.key);
    expect(readdirSync(join(dir, 'nested')).sort()).toEqual(before.files);

    // a passphrase differing only by case is wrong too; the right one still works
    await expect(openVault({ path, passphrase: PASS.toUpperCase() })).rejects.toMatchObject({ code: 'wrong_password' });
    const v2 = await openVault({ path, passphrase: PASS });
    expect(await v2.get(ref)).toBe('kept');
    await v2.close();
  });

  it('never writes the plaintext of a value or of the passphrase to disk', async () => {
    const canary = 'CANARY-7f3a9c-secret-value-that-must-not-leak';
    const vault = await openVault({ path, passphrase: PASS, kdf: FAST });
    const refs = Array.from({ length: 20 }, () => newSecretRef());
    for (const ref of refs) await vault.set(ref, `${canary}-${ref}`);
    await vault.delete(refs[0]!);
    // a deleted value does not linger either
    expect(await vault.get(refs[1]!)).toBe(`${canary}-${refs[1]}`);
    await vault.close();
    const files = readdirSync(join(dir, 'nested'));
    expect(files.sort()).toEqual(['secrets.vault', 'secrets.vault.key.json']);
    for (const f of files) {
      const bytes = readFileSync(join(dir, 'nested', f));
      for (const needle of [canary, canary.slice(0, 16), PASS, refs[1]!]) {
        expect(bytes.includes(Buffer.from(needle, 'utf8'))).toBe(false);
        expect(bytes.includes(Buffer.from(needle, 'utf16le'))).toBe(false);
      }
    }
    // the vault file is not even a readable SQLite file without the key
    expect(readFileSync(path).subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\u0000');
  });

  it('uses the default scrypt parameters for a new vault and records them in the key file', async () => {
    const vault = await openVault({ path, passphrase: PASS });
    await vault.close();
    const header = JSON.parse(readFileSync(vaultKeyFilePath(path), 'utf8')) as Record<string, unknown>;
    expect(header).toMatchObject({ format: 'aristobot3-vault', kdf: 'scrypt', N: DEFAULT_SCRYPT.N, r: DEFAULT_SCRYPT.r, p: DEFAULT_SCRYPT.p });
    expect(Buffer.from(String(header.salt), 'base64')).toHaveLength(16);
  });

  it('two vaults with the same passphrase get different salts and cannot open each other', async () => {
    const other = join(dir, 'other.vault');
    await (await openVault({ path, passphrase: PASS, kdf: FAST })).close();
    await (await openVault({ path: other, passphrase: PASS, kdf: FAST })).close();
    const a = JSON.parse(readFileSync(vaultKeyFilePath(path), 'utf8')) as { salt: string };
    const b = JSON.parse(readFileSync(vaultKeyFilePath(other), 'utf8')) as { salt: string };
    expect(a.salt).not.toBe(b.salt);
    // swap the key files: the check value no longer matches the file → refused, nothing written
    writeFileSync(vaultKeyFilePath(path), readFileSync(vaultKeyFilePath(other)));
    const before = sha256(path);
    const err = await rejection(openVault({ path, passphrase: PASS }));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/damaged or was replaced/);
    expect(sha256(path)).toBe(before);
  });

  it('reports a damaged vault file, a missing or damaged key file, an empty passphrase', async () => {
    await (await openVault({ path, passphrase: PASS, kdf: FAST })).close();
    const keyFile = vaultKeyFilePath(path);
    const keyBytes = readFileSync(keyFile);

    const bytes = readFileSync(path);
    bytes.fill(0x41, 0, 4096);
    writeFileSync(path, bytes);
    await expect(openVault({ path, passphrase: PASS })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/damaged/) });

    rmSync(keyFile);
    await expect(openVault({ path, passphrase: PASS })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/key file .* is missing/) });

    writeFileSync(keyFile, keyBytes.toString('utf8').replace('"scrypt"', '"md5"'));
    await expect(openVault({ path, passphrase: PASS })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/damaged or not an Aristobot3 vault key file/) });

    writeFileSync(keyFile, '{not json');
    await expect(openVault({ path, passphrase: PASS })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/cannot be read/) });

    await expect(openVault({ path: join(dir, 'x.vault'), passphrase: '' })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(existsSync(join(dir, 'x.vault'))).toBe(false);
    await expect(openVault({ path: join(dir, 'y.vault'), passphrase: PASS, create: false })).rejects.toMatchObject({ code: 'not_found' });
    expect(existsSync(join(dir, 'y.vault'))).toBe(false);
  });

  it('rejects invalid refs without touching the store', async () => {
    const vault = await openVault({ path, passphrase: PASS, kdf: FAST });
    await expect(vault.set('', 'x')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(vault.get('a\nb')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(vault.delete('x'.repeat(257))).rejects.toMatchObject({ code: 'invalid_input' });
    await vault.close();
  });
});
