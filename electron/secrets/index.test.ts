import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../shared/errors';
import { translate } from '../../shared/i18n';
import { wordError } from '../../shared/i18n/wording';
import { createLogger, silentLogger } from '../log';
import { isSecretRef, newSecretRef, openSecretStore, openVault, requireSecrets, secretsConfigFromEnv, type KeychainCheck, type SecretStoreResult } from './index';
import type { ScryptParams } from './vault';

const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };
const answers = (): Promise<KeychainCheck> => Promise.resolve({ ok: true });
const silent = (): Promise<KeychainCheck> => Promise.resolve({ ok: false, reason: 'no Secret Service on the bus' });

let dir: string;
let vaultPath: string;
const opened: SecretStoreResult[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aristobot-secrets-'));
  vaultPath = join(dir, 'secrets.vault');
});
afterEach(async () => {
  for (const r of opened.splice(0)) await r.store?.close?.();
  rmSync(dir, { recursive: true, force: true });
});

async function open(args: Partial<Parameters<typeof openSecretStore>[0]>): Promise<SecretStoreResult> {
  const r = await openSecretStore({ mode: 'auto', vaultPath, log: silentLogger(), vaultKdf: FAST, ...args });
  opened.push(r);
  return r;
}

describe('newSecretRef', () => {
  it('is opaque, prefixed and unique', () => {
    const refs = new Set(Array.from({ length: 1000 }, () => newSecretRef()));
    expect(refs.size).toBe(1000);
    for (const ref of refs) expect(isSecretRef(ref)).toBe(true);
    expect(isSecretRef('sec_not-a-uuid')).toBe(false);
  });
});

describe('openSecretStore: which backend', () => {
  it('auto: the keychain when one answers (passphrase or not); no vault file is created', async () => {
    const probe = vi.fn(answers);
    const a = await open({ probe });
    expect(a.backend).toBe('keychain');
    expect(a.store?.backend).toBe('keychain');
    expect(a.message).toMatch(/OS keychain/);
    const b = await open({ probe, passphrase: 'pw' });
    expect(b.backend).toBe('keychain');
    expect(b.message).toMatch(/ARISTOBOT_VAULT_PASSPHRASE is set but not needed/);
    expect(probe).toHaveBeenCalledTimes(2);
    expect(existsSync(vaultPath)).toBe(false);
  });

  it('auto: the vault when no keychain answers and a passphrase is given', async () => {
    const r = await open({ probe: silent, passphrase: 'pw' });
    expect(r.backend).toBe('vault');
    const store = requireSecrets(r);
    expect(store.backend).toBe('vault');
    const ref = newSecretRef();
    await store.set(ref, 'v');
    expect(await store.get(ref)).toBe('v');
    expect(existsSync(vaultPath)).toBe(true);
    expect(r.message).toContain(vaultPath);
  });

  it('auto: neither → no store, and a message that says what is unavailable and how to fix it', async () => {
    const r = await open({ probe: silent });
    expect(r.backend).toBe('none');
    expect(r.store).toBeNull();
    expect(r.message).toMatch(/features that need secrets .* are unavailable/);
    expect(r.message).toMatch(/install and unlock an OS keychain/);
    expect(r.message).toMatch(/set ARISTOBOT_VAULT_PASSPHRASE/);
    expect(existsSync(vaultPath)).toBe(false); // never a plaintext (or any) fallback file
    let thrown: unknown;
    try {
      requireSecrets(r);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'secrets_unavailable', message: r.message });
  });

  it('auto: an existing vault plus a passphrase wins over the keychain (its secrets are there)', async () => {
    const ref = newSecretRef();
    const v = await openVault({ path: vaultPath, passphrase: 'pw', kdf: FAST });
    await v.set(ref, 'in the vault');
    await v.close();
    const probe = vi.fn(answers);
    const r = await open({ probe, passphrase: 'pw' });
    expect(r.backend).toBe('vault');
    expect(await requireSecrets(r).get(ref)).toBe('in the vault');
    expect(probe).not.toHaveBeenCalled();
    // without the passphrase the keychain is used, and the message points at the unused vault
    const k = await open({ probe });
    expect(k.backend).toBe('keychain');
    expect(k.message).toContain(`A vault file exists at ${vaultPath}`);
  });

  it('keychain: no fallback to the vault even with a passphrase', async () => {
    const r = await open({ mode: 'keychain', probe: silent, passphrase: 'pw' });
    expect(r.backend).toBe('none');
    expect(r.store).toBeNull();
    expect(r.message).toMatch(/No OS keychain answered \(no Secret Service on the bus\)/);
    expect(existsSync(vaultPath)).toBe(false);
  });

  it('vault: never probes the keychain; needs the passphrase', async () => {
    const probe = vi.fn(answers);
    const none = await open({ mode: 'vault', probe });
    expect(none.backend).toBe('none');
    expect(none.message).toMatch(/ARISTOBOT_VAULT_PASSPHRASE is not set/);
    const vault = await open({ mode: 'vault', probe, passphrase: 'pw' });
    expect(vault.backend).toBe('vault');
    expect(probe).not.toHaveBeenCalled();
  });

  it('a wrong vault passphrase → no store, error code wrong_password, the file untouched', async () => {
    await (await openVault({ path: vaultPath, passphrase: 'right', kdf: FAST })).close();
    const before = readFileSync(vaultPath);
    const r = await open({ mode: 'vault', passphrase: 'wrong-passphrase' });
    expect(r.backend).toBe('none');
    expect(r.error?.code).toBe('wrong_password');
    expect(r.message).toMatch(/^The vault passphrase is wrong.*features that need secrets .* are unavailable\.$/);
    expect(r.message).not.toContain('wrong-passphrase');
    expect(readFileSync(vaultPath).equals(before)).toBe(true);
    expect(() => requireSecrets(r)).toThrow(/passphrase is wrong/);
  });

  it('every state message has its key and parameters: the English one is its wording, and it reads in French, also inside the error', async () => {
    const fr = (r: SecretStoreResult) => translate('fr', r.text.key, r.text.params);
    const cases: [Partial<Parameters<typeof openSecretStore>[0]>, string, RegExp][] = [
      [{ probe: answers }, 'coreRest.secrets.keychainUsed', /^Les secrets sont conservés dans le trousseau du système \(service « Aristobot3 »\)\.$/],
      [{ probe: answers, passphrase: 'pw' }, 'coreRest.secrets.keychainUsedPassphraseSet', /est définie mais inutile/],
      [{ probe: silent }, 'coreRest.secrets.noStore', /^Aucun trousseau du système n'a répondu et ARISTOBOT_VAULT_PASSPHRASE n'est pas définie : .*sont donc indisponibles\. Pour y remédier/],
      [{ mode: 'keychain', probe: silent }, 'coreRest.secrets.noKeychain', /^Aucun trousseau du système n'a répondu \(no Secret Service on the bus\) : /],
      [{ mode: 'keychain', probe: () => Promise.resolve({ ok: false, reason: 'no answer within 5 ms', text: { key: 'coreRest.secrets.noAnswer', params: { ms: 5 } } }) }, 'coreRest.secrets.noKeychain', /^Aucun trousseau du système n'a répondu \(aucune réponse en 5 ms\)/],
      [{ mode: 'vault', probe: answers }, 'coreRest.secrets.vaultNoPassphrase', /^Le coffre a été choisi .* Pour y remédier, définissez ARISTOBOT_VAULT_PASSPHRASE/],
      [{ probe: silent, passphrase: 'pw' }, 'coreRest.secrets.vaultUsedNoKeychain', /^Les secrets sont conservés dans le coffre chiffré .* \(aucun trousseau du système n'a répondu\)\.$/],
      [{ mode: 'vault', passphrase: 'pw' }, 'coreRest.secrets.vaultUsed', /^Les secrets sont conservés dans le coffre chiffré [^(]*\.$/],
      [{ probe: answers, passphrase: 'pw' }, 'coreRest.secrets.vaultUsedExisting', /\(il existe et ARISTOBOT_VAULT_PASSPHRASE est définie\)/],
      [{ probe: answers }, 'coreRest.secrets.keychainUsedVaultIgnored', /Un fichier de coffre existe dans .*; ses secrets ne sont utilisés que si/],
      [{ mode: 'vault', passphrase: 'wrong' }, 'coreRest.secrets.vaultFailed', /^La phrase secrète du coffre est fausse.* D'ici là, les fonctions qui ont besoin de secrets/],
    ];
    for (const [args, key, french] of cases) {
      const r = await open(args);
      expect(r.text.key, key).toBe(key);
      expect(translate('en', r.text.key, r.text.params)).toBe(r.message);
      expect(fr(r), key).toMatch(french);
      if (!r.store) {
        // the refusal a feature gives: the whole sentence, the state nested, in French
        const e = (() => {
          try {
            requireSecrets(r);
          } catch (x) {
            return x as AppError;
          }
          throw new Error('no refusal');
        })();
        expect(e.message).toBe(r.message);
        expect(wordError('fr', e)).toBe(fr(r));
      }
    }
  });

  it('auto with the real probe picks the keychain (on Linux: run under scripts/with-keyring.sh)', async () => {
    const r = await open({ probeTimeoutMs: 5000 });
    expect(r.backend).toBe('keychain');
  });
});

describe('secrets never reach the log', () => {
  it('a canary value and passphrase appear in no log line, at debug level, across all paths', async () => {
    const logFile = join(dir, 'log', 'test.log');
    const log = createLogger({ file: logFile, level: 'debug' });
    const canary = `CANARY-${newSecretRef()}`;
    const canaryPass = `PASS-CANARY-${newSecretRef()}`;
    const refs: string[] = [];

    // vault: create, write, read, delete; then a wrong passphrase
    const vault = await openSecretStore({ mode: 'vault', vaultPath, passphrase: canaryPass, log, vaultKdf: FAST });
    const vs = requireSecrets(vault);
    refs.push(newSecretRef());
    await vs.set(refs[0]!, canary);
    expect(await vs.get(refs[0]!)).toBe(canary);
    await vs.delete(refs[0]!);
    await vs.close?.();
    const wrong = await openSecretStore({ mode: 'vault', vaultPath, passphrase: `${canaryPass}-wrong`, log });
    expect(wrong.error?.code).toBe('wrong_password');

    // keychain (real): a passphrase is set too, so it is mentioned but must not be printed
    const kc = await openSecretStore({ mode: 'auto', vaultPath: join(dir, 'unused.vault'), passphrase: canaryPass, log, keychainService: `Aristobot3-test-log-${process.pid}` });
    const ks = requireSecrets(kc);
    refs.push(newSecretRef());
    await ks.set(refs[1]!, canary);
    expect(await ks.get(refs[1]!)).toBe(canary);
    await ks.delete(refs[1]!);

    // nothing at all
    await openSecretStore({ mode: 'auto', vaultPath, log, probe: silent });

    // a careless caller logging an object with secret-named fields is redacted by the logger
    log.info({ passphrase: canaryPass, broker: { secret: canary } }, 'careless');
    log.flush();

    const text = readFileSync(logFile, 'utf8');
    const lines = text.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const ref of refs) expect(text).toContain(ref); // operations were logged, by ref
    expect(text).toMatch(/"backend":"vault"/);
    expect(text).toMatch(/"backend":"keychain"/);
    expect(text).toMatch(/"backend":"none"/);
    expect(text).toContain('[redacted]');
    for (const needle of [canary, canaryPass, 'CANARY-']) expect(text).not.toContain(needle);
  });
});

describe('secretsConfigFromEnv', () => {
  it('reads the mode and the passphrase, defaulting to auto', () => {
    expect(secretsConfigFromEnv({})).toEqual({ mode: 'auto' });
    expect(secretsConfigFromEnv({ ARISTOBOT_SECRETS_BACKEND: ' Vault ', ARISTOBOT_VAULT_PASSPHRASE: 'p w' })).toEqual({ mode: 'vault', passphrase: 'p w' });
    expect(secretsConfigFromEnv({ ARISTOBOT_SECRETS_BACKEND: 'keychain', ARISTOBOT_VAULT_PASSPHRASE: '' })).toEqual({ mode: 'keychain' });
    expect(() => secretsConfigFromEnv({ ARISTOBOT_SECRETS_BACKEND: 'plaintext' })).toThrow(/must be one of auto, keychain, vault/);
  });
});
