import { existsSync } from 'node:fs';
import { AppError, isAppError, sentence } from '../../shared/errors';
import type { MessageKey, Text } from '../../shared/i18n';
import type { Logger } from '../log';
import { checkKeychain, DEFAULT_PROBE_TIMEOUT_MS, KeychainSecretStore, type KeychainCheck } from './keychain';
import type { SecretStore } from './store';
import { openVault, type ScryptParams } from './vault';

export { newSecretRef, isSecretRef, type SecretStore, type SecretBackend } from './store';
export { KeychainSecretStore, probeKeychain, checkKeychain, DEFAULT_KEYCHAIN_SERVICE, type KeychainCheck } from './keychain';
export { openVault, VaultSecretStore, vaultKeyFilePath, DEFAULT_SCRYPT, type ScryptParams } from './vault';

/** Which store to use: 'auto' (keychain, else the vault when a passphrase is given), or forced. */
export type SecretsMode = 'auto' | 'keychain' | 'vault';
export const SECRETS_MODES: readonly SecretsMode[] = ['auto', 'keychain', 'vault'];

export interface OpenSecretStoreOptions {
  mode: SecretsMode;
  /** Where the vault file is (or will be created). */
  vaultPath: string;
  /** The vault passphrase (ARISTOBOT_VAULT_PASSPHRASE); never logged. */
  passphrase?: string;
  log: Logger;
  /** Keychain service name; default 'Aristobot3'. */
  keychainService?: string;
  /** Bound for the keychain probe; default 3 s. */
  probeTimeoutMs?: number;
  /** scrypt parameters for a vault created now. */
  vaultKdf?: ScryptParams;
  /** Replaces the real keychain probe (tests). */
  probe?: (timeoutMs: number) => Promise<KeychainCheck>;
}

export interface SecretStoreResult {
  /** Null when no store could be opened: features that need secrets are unavailable. */
  store: SecretStore | null;
  backend: 'keychain' | 'vault' | 'none';
  /** For a person: which store is used, or why none is and how to fix it. Never contains a secret. */
  message: string;
  /** `message` as a catalogue key and parameters (`coreRest.secrets.*`), worded in the reader's language. */
  text: Text;
  /** Why no store was opened, when that was an error (e.g. code 'wrong_password'). */
  error?: AppError;
}

/** The store's state as a message: its key and parameters, and the same in English. */
function said(key: MessageKey, params: Record<string, string | number | Text> = {}): { message: string; text: Text } {
  const s = sentence(key, params);
  return { message: s.text, text: { key, params: s.params } };
}

/**
 * Opens the store for secrets. Never falls back to plaintext and never throws for an expected
 * condition: when nothing can be opened, `store` is null and `message` says why and what to do.
 *
 * 'auto': the OS keychain when one answers; otherwise the vault when a passphrase is given. An
 * existing vault file plus a passphrase wins over the keychain, since the secrets are in it.
 */
export async function openSecretStore(opts: OpenSecretStoreOptions): Promise<SecretStoreResult> {
  const { mode, vaultPath, log } = opts;
  const passphrase = opts.passphrase && opts.passphrase.length > 0 ? opts.passphrase : undefined;
  const timeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const probe = opts.probe ?? ((ms: number) => checkKeychain(ms, { service: opts.keychainService }));

  const useVault = async (why: 'vaultUsed' | 'vaultUsedExisting' | 'vaultUsedNoKeychain'): Promise<SecretStoreResult> => {
    try {
      const store = await openVault({ path: vaultPath, passphrase: passphrase ?? '', kdf: opts.vaultKdf, log });
      const s = said(`coreRest.secrets.${why}`, { path: vaultPath });
      log.info({ backend: 'vault', path: vaultPath }, s.message);
      return { store, backend: 'vault', ...s };
    } catch (e) {
      const error = isAppError(e) ? e : new AppError('internal', 'errors.secrets.vaultCouldNotOpened', { vaultPath, reason: e instanceof Error ? e.message : String(e) });
      const s = said('coreRest.secrets.vaultFailed', { error: error.text });
      log.error({ backend: 'none', code: error.code, path: vaultPath }, s.message);
      return { store: null, backend: 'none', ...s, error };
    }
  };
  const none = (s: { message: string; text: Text }): SecretStoreResult => {
    log.warn({ backend: 'none' }, s.message);
    return { store: null, backend: 'none', ...s };
  };

  if (mode === 'vault') {
    if (!passphrase) return none(said('coreRest.secrets.vaultNoPassphrase', { path: vaultPath }));
    return useVault('vaultUsed');
  }

  if (mode === 'auto' && passphrase && existsSync(vaultPath)) {
    return useVault('vaultUsedExisting');
  }

  const check = await probe(timeoutMs);
  if (check.ok) {
    const store = new KeychainSecretStore({ service: opts.keychainService, log });
    const s =
      mode === 'auto' && passphrase
        ? said('coreRest.secrets.keychainUsedPassphraseSet', { service: store.service })
        : mode === 'auto' && existsSync(vaultPath)
          ? said('coreRest.secrets.keychainUsedVaultIgnored', { service: store.service, path: vaultPath })
          : said('coreRest.secrets.keychainUsed', { service: store.service });
    log.info({ backend: 'keychain' }, s.message);
    return { store, backend: 'keychain', ...s };
  }
  log.info({ reason: check.reason }, 'no OS keychain answered');

  if (mode === 'keychain') {
    return none(said('coreRest.secrets.noKeychain', { reason: check.text ?? { key: 'errors.external', params: { reason: check.reason } } }));
  }
  if (passphrase) return useVault('vaultUsedNoKeychain');
  return none(said('coreRest.secrets.noStore', { path: vaultPath }));
}

/** The store, or AppError('secrets_unavailable') carrying the explanation (worded in the reader's language). */
export function requireSecrets(result: SecretStoreResult): SecretStore {
  if (!result.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: result.text });
  return result.store;
}

export interface SecretsEnvConfig {
  mode: SecretsMode;
  passphrase?: string;
}

/**
 * Reads ARISTOBOT_SECRETS_BACKEND (auto | keychain | vault; default auto) and
 * ARISTOBOT_VAULT_PASSPHRASE. Callers may delete the passphrase from the environment afterwards so
 * that child processes do not inherit it.
 */
export function secretsConfigFromEnv(env: Record<string, string | undefined> = process.env): SecretsEnvConfig {
  const raw = (env.ARISTOBOT_SECRETS_BACKEND ?? '').trim().toLowerCase();
  const mode = raw === '' ? 'auto' : raw;
  if (!(SECRETS_MODES as readonly string[]).includes(mode)) {
    throw new AppError('invalid_input', 'errors.secrets.aristobotSecretsBackendMust', { SECRETS_MODES: SECRETS_MODES.join(', '), raw });
  }
  const passphrase = env.ARISTOBOT_VAULT_PASSPHRASE;
  return passphrase ? { mode: mode as SecretsMode, passphrase } : { mode: mode as SecretsMode };
}
