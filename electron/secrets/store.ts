import { randomUUID } from 'node:crypto';
import { AppError } from '../../shared/errors';

/** Where secrets live: the OS keychain, or the encrypted vault file where no keychain exists. */
export type SecretBackend = 'keychain' | 'vault';

/**
 * A place for secrets (exchange API keys, AI keys, an external database password). The database
 * stores only the opaque reference (`newSecretRef()`); the value stays here. Implementations never
 * log a value and never put one in an error message.
 */
export interface SecretStore {
  readonly backend: SecretBackend;
  /** Stores `value` under `ref`, replacing any previous value. */
  set(ref: string, value: string): Promise<void>;
  /** The value stored under `ref`, or null when there is none. */
  get(ref: string): Promise<string | null>;
  /** Removes `ref`; removing an absent ref is not an error. */
  delete(ref: string): Promise<void>;
  /** Releases resources (the vault closes its file); the store is unusable afterwards. */
  close?(): Promise<void>;
}

const REF_PATTERN = /^sec_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new opaque reference for a secret, e.g. `sec_3b2c…`; it says nothing about the secret. */
export function newSecretRef(): string {
  return `sec_${randomUUID()}`;
}

/** True for a reference made by `newSecretRef()`. */
export function isSecretRef(ref: string): boolean {
  return REF_PATTERN.test(ref);
}

/**
 * Refs are checked loosely (any non-empty printable string up to 256 characters) so that stores can
 * hold a few fixed names too (e.g. the keychain probe); the value is never checked or shown.
 */
export function assertValidRef(ref: string): void {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 256 || hasControlChar(ref)) {
    throw new AppError('invalid_input', 'errors.secrets.secretReferenceMustNon');
  }
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
