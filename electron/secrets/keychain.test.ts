/**
 * These tests use the real OS keychain. On Linux run them under a private, unlocked GNOME Keyring:
 *   scripts/with-keyring.sh npx vitest run electron/secrets
 * (`npm test` runs everything under it.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findCredentials } from '@napi-rs/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate, type Params } from '../../shared/i18n';
import { checkKeychain, KeychainSecretStore, probeKeychain } from './keychain';
import { newSecretRef } from './store';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/probe-child.ts', import.meta.url));

/** A service name of our own so that parallel runs and a real "Aristobot3" entry never collide. */
const service = `Aristobot3-test-${process.pid}-${Date.now()}`;
let store: KeychainSecretStore;
let dir: string;

beforeAll(() => {
  store = new KeychainSecretStore({ service });
  dir = mkdtempSync(join(tmpdir(), 'aristobot-keychain-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // Without a keychain (run outside with-keyring.sh) there is nothing to clean; the tests say so.
  const left = await Promise.resolve()
    .then(() => findCredentials(service))
    .catch(() => []);
  for (const { account } of left) await store.delete(account);
});

interface ChildReport {
  probe: boolean;
  check: { ok: boolean; reason?: string; text?: { key: string; params?: Record<string, string> } };
  backend: string;
  message: string;
  roundTrip: string | null;
}

/** Runs the fixture in a fresh process (the library caches its D-Bus connection per process). */
async function child(env: Record<string, string | undefined>, vaultPath: string): Promise<ChildReport> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, vaultPath], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildReport;
}

describe('OS keychain', () => {
  it('answers (on Linux: run under scripts/with-keyring.sh)', async () => {
    expect(await checkKeychain(5000)).toEqual({ ok: true });
    expect(await probeKeychain(5000)).toBe(true);
  });

  it('round-trips set / get / overwrite / delete', async () => {
    const ref = newSecretRef();
    expect(await store.get(ref)).toBeNull();
    await store.set(ref, 'api-secret-1');
    expect(await store.get(ref)).toBe('api-secret-1');
    expect(findCredentials(service).map((c) => c.account)).toContain(ref);
    await store.set(ref, 'api-secret-2');
    expect(await store.get(ref)).toBe('api-secret-2');
    expect(findCredentials(service).filter((c) => c.account === ref)).toHaveLength(1);
    await store.delete(ref);
    expect(await store.get(ref)).toBeNull();
    await store.delete(ref); // absent: no error
    expect(findCredentials(service).map((c) => c.account)).not.toContain(ref);
  });

  it('keeps unicode, long and whitespace-edged values exactly', async () => {
    const values = ['clé 🔑 秘密 Ωμέγα', '  leading and trailing  ', 'a'.repeat(2000), 'line1\nline2\ttab', '"quotes" \'and\' \\backslash'];
    const refs = values.map(() => newSecretRef());
    for (const [i, ref] of refs.entries()) await store.set(ref, values[i]!);
    for (const [i, ref] of refs.entries()) expect(await store.get(ref)).toBe(values[i]);
    for (const ref of refs) await store.delete(ref);
    for (const ref of refs) expect(await store.get(ref)).toBeNull();
  });

  it('keeps services apart: the same ref under another service is another entry', async () => {
    const other = new KeychainSecretStore({ service: `${service}-other` });
    const ref = newSecretRef();
    await store.set(ref, 'mine');
    expect(await other.get(ref)).toBeNull();
    await other.set(ref, 'theirs');
    expect(await store.get(ref)).toBe('mine');
    await other.delete(ref);
    expect(await store.get(ref)).toBe('mine');
    await store.delete(ref);
  });

  it('leaves no probe entry behind', async () => {
    expect(await probeKeychain(5000, { service })).toBe(true);
    expect(findCredentials(service).filter((c) => c.account.startsWith('probe_'))).toEqual([]);
  });

  it('rejects an invalid ref before asking the keychain', async () => {
    await expect(store.set('', 'x')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(store.get('bad\u0000ref')).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('probes false (and fails with secrets_unavailable) when the D-Bus session points nowhere', async () => {
    const report = await child({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/aristobot-no-bus', TEST_VAULT_PASSPHRASE: undefined }, join(dir, 'none.vault'));
    if (process.platform === 'linux') {
      expect(report.probe).toBe(false);
      expect(report.check.ok).toBe(false);
      expect(report.check.reason).toMatch(/nonexistent|connect|D-?Bus/i);
      // the library's own words pass as they are, as a message the state sentence nests
      expect(report.check.text).toEqual({ key: 'errors.external', params: { reason: report.check.reason } });
      expect(report.backend).toBe('none');
      expect(report.message).toMatch(/features that need secrets .* are unavailable/);
      expect(report.roundTrip).toBeNull();
    } else {
      // DBus is irrelevant elsewhere: the platform keychain still answers
      expect(report.probe).toBe(true);
    }
  });

  it('falls back to the vault in a process without a keychain when a passphrase is given', async () => {
    const env = process.platform === 'linux' ? { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/aristobot-no-bus' } : {};
    const report = await child({ ...env, TEST_VAULT_PASSPHRASE: 'child passphrase' }, join(dir, 'child.vault'));
    if (process.platform !== 'linux') return;
    expect(report.backend).toBe('vault');
    expect(report.message).toMatch(/encrypted vault .*child\.vault/);
    expect(report.roundTrip).toBe('child-value');
  });

  it('a store whose keychain is gone fails with secrets_unavailable, not a hang', async () => {
    // In a child: the store's calls time out or fail fast.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '-e', `import { KeychainSecretStore } from './electron/secrets/keychain'; const s = new KeychainSecretStore({ timeoutMs: 2000 }); s.get('sec_x').then(() => console.log('resolved'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message, key: e.key, params: e.params })));`],
      { cwd: repoRoot, env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/aristobot-no-bus' }, timeout: 30_000 },
    );
    if (process.platform !== 'linux') return;
    const out = JSON.parse(stdout.trim()) as { code: string; message: string; key: string; params: Params };
    expect(out.code).toBe('secrets_unavailable');
    expect(out.message).toMatch(/^The OS keychain refused to read a secret from it: .*Check that a keychain is installed and unlocked\.$/);
    // the operation is a key too, so the whole refusal reads in French (the library's own words stay as they came)
    expect(out.key).toBe('errors.secrets.osKeychainRefusedCheck');
    expect(out.params.what).toEqual({ key: 'coreLast.keychain.read', params: {} });
    expect(translate('fr', out.key, out.params)).toMatch(/^Le trousseau du système a refusé d'y lire un secret : .*Vérifiez qu'un trousseau est installé et déverrouillé\.$/);
    expect(translate('en', out.key, out.params)).toBe(out.message);
  });
});
