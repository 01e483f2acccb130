import { existsSync } from 'node:fs';
import { AppError, isAppError } from '../../shared/errors';
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
  /** Why no store was opened, when that was an error (e.g. code 'wrong_password'). */
  error?: AppError;
}

const FEATURES = 'features that need secrets (exchange API keys, AI keys, an external database password) are unavailable';
const FIX_KEYCHAIN = 'install and unlock an OS keychain (macOS Keychain, Windows Credential Manager, or on Linux a Secret Service such as GNOME Keyring or KWallet)';
const FIX_VAULT = (path: string): string => `set ARISTOBOT_VAULT_PASSPHRASE to use an encrypted vault file (${path})`;

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

  const useVault = async (why: string): Promise<SecretStoreResult> => {
    try {
      const store = await openVault({ path: vaultPath, passphrase: passphrase ?? '', kdf: opts.vaultKdf, log });
      const message = `Secrets are kept in the encrypted vault ${vaultPath}${why}.`;
      log.info({ backend: 'vault', path: vaultPath }, message);
      return { store, backend: 'vault', message };
    } catch (e) {
      const error = isAppError(e) ? e : new AppError('internal', 'errors.secrets.vaultCouldNotOpened', { vaultPath, reason: e instanceof Error ? e.message : String(e) });
      const message = `${error.message} Until then, ${FEATURES}.`;
      log.error({ backend: 'none', code: error.code, path: vaultPath }, message);
      return { store: null, backend: 'none', message, error };
    }
  };
  const none = (message: string): SecretStoreResult => {
    log.warn({ backend: 'none' }, message);
    return { store: null, backend: 'none', message };
  };

  if (mode === 'vault') {
    if (!passphrase) return none(`The vault was chosen (ARISTOBOT_SECRETS_BACKEND=vault) but ARISTOBOT_VAULT_PASSPHRASE is not set, so ${FEATURES}. To fix it, ${FIX_VAULT(vaultPath)}.`);
    return useVault('');
  }

  if (mode === 'auto' && passphrase && existsSync(vaultPath)) {
    return useVault(' (it exists and ARISTOBOT_VAULT_PASSPHRASE is set)');
  }

  const check = await probe(timeoutMs);
  if (check.ok) {
    const store = new KeychainSecretStore({ service: opts.keychainService, log });
    let message = `Secrets are kept in the OS keychain (service "${store.service}").`;
    if (mode === 'auto' && passphrase) message += ' ARISTOBOT_VAULT_PASSPHRASE is set but not needed; set ARISTOBOT_SECRETS_BACKEND=vault to use the vault file instead.';
    if (mode === 'auto' && !passphrase && existsSync(vaultPath)) message += ` A vault file exists at ${vaultPath}; its secrets are not used unless ARISTOBOT_VAULT_PASSPHRASE is set.`;
    log.info({ backend: 'keychain' }, message);
    return { store, backend: 'keychain', message };
  }
  log.info({ reason: check.reason }, 'no OS keychain answered');

  if (mode === 'keychain') {
    return none(`No OS keychain answered (${check.reason}), so ${FEATURES}. To fix it, ${FIX_KEYCHAIN}, or choose the vault (ARISTOBOT_SECRETS_BACKEND=vault and ARISTOBOT_VAULT_PASSPHRASE).`);
  }
  if (passphrase) return useVault(' (no OS keychain answered)');
  return none(`No OS keychain answered and ARISTOBOT_VAULT_PASSPHRASE is not set, so ${FEATURES}. To fix it, ${FIX_KEYCHAIN}, or ${FIX_VAULT(vaultPath)}.`);
}

/** The store, or AppError('secrets_unavailable') carrying the explanation. */
export function requireSecrets(result: SecretStoreResult): SecretStore {
  if (!result.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: result.message });
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
