import { randomBytes, randomUUID } from 'node:crypto';
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import { AppError } from '../../shared/errors';
import { translate, type Text } from '../../shared/i18n';
import type { Logger } from '../log';
import { assertValidRef, type SecretStore } from './store';

export const DEFAULT_KEYCHAIN_SERVICE = 'Aristobot3';
/** A keychain that is locked may wait for a password prompt forever; every call is bounded. */
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 10_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;

/**
 * On Linux the library would silently fall back to the kernel keyring (keyutils) when no Secret
 * Service answers. That keyring lives in memory only and is gone after a reboot, so secrets stored
 * there would be lost: pin the Secret Service, and treat its absence as "no keychain".
 */
const ENTRY_OPTIONS: EntryOptions | undefined = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;

export interface KeychainOptions {
  /** Service name under which entries are filed (account = the secret's ref). Default 'Aristobot3'. */
  service?: string;
  /** Upper bound for each keychain call. Default 10 s. */
  timeoutMs?: number;
  log?: Logger;
}

/** Secrets in the OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service). */
export class KeychainSecretStore implements SecretStore {
  readonly backend = 'keychain' as const;
  readonly service: string;
  private readonly timeoutMs: number;
  private readonly log: Logger | undefined;

  constructor(opts: KeychainOptions = {}) {
    this.service = opts.service ?? DEFAULT_KEYCHAIN_SERVICE;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
    this.log = opts.log;
    if (this.service.length === 0) throw new AppError('invalid_input', 'errors.secrets.keychainServiceNameMust');
  }

  async set(ref: string, value: string): Promise<void> {
    assertValidRef(ref);
    if (typeof value !== 'string') throw new AppError('invalid_input', 'errors.secrets.secretValueMustString');
    await this.call('coreLast.keychain.store', (signal) => this.entry(ref).setPassword(value, signal));
    this.log?.debug({ ref, backend: 'keychain' }, 'secret stored');
  }

  async get(ref: string): Promise<string | null> {
    assertValidRef(ref);
    const value = await this.call('coreLast.keychain.read', (signal) => this.entry(ref).getPassword(signal));
    return value ?? null;
  }

  async delete(ref: string): Promise<void> {
    assertValidRef(ref);
    const existed = await this.call('coreLast.keychain.delete', (signal) => this.entry(ref).deleteCredential(signal));
    this.log?.debug({ ref, backend: 'keychain', existed }, 'secret deleted');
  }

  async close(): Promise<void> {
    // Nothing to release: each call opens its own entry.
  }

  private entry(ref: string): AsyncEntry {
    return new AsyncEntry(this.service, ref, ENTRY_OPTIONS);
  }

  /**
   * Runs one keychain call with a timeout; failures become `secrets_unavailable` (no value inside).
   * `operation` names the call by key (`{what}` in the error, worded in the reader's language).
   */
  private call<T>(operation: 'coreLast.keychain.store' | 'coreLast.keychain.read' | 'coreLast.keychain.delete', fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const what: Text = { key: operation };
    return withTimeout(this.timeoutMs, fn).catch((e: unknown) => {
      if (e instanceof TimeoutError) {
        const text = noAnswer(this.timeoutMs);
        throw new AppError('secrets_unavailable', 'errors.secrets.osKeychainDidNot', { timeoutMs: this.timeoutMs, what }, { reason: translate('en', text.key, text.params), reasonText: text });
      }
      const reason = describe(e);
      throw new AppError('secrets_unavailable', 'errors.secrets.osKeychainRefusedCheck', { what, reason }, { reason });
    });
  }
}

class TimeoutError extends Error {}

async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TimeoutError());
      controller.abort();
    }, ms);
  });
  try {
    // `fn` may throw synchronously (the entry constructor does when no Secret Service exists).
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The library's own message (it names the failing platform call, never a value). */
function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/\s+/g, ' ').trim().slice(0, 300) || 'unknown error';
}

const noAnswer = (ms: number): Text => ({ key: 'coreRest.secrets.noAnswer', params: { ms } });

/** Why a keychain call failed, as a message: ours by key, the library's or the OS's words as they are. */
function reasonOf(e: unknown): Text {
  const d = e instanceof AppError && typeof e.details === 'object' && e.details !== null ? (e.details as { reason?: unknown; reasonText?: Text }) : null;
  if (d?.reasonText) return d.reasonText;
  const reason = d && typeof d.reason === 'string' ? d.reason : e instanceof Error ? e.message : describe(e);
  return { key: 'errors.external', params: { reason } };
}

const failed = (text: Text): KeychainCheck => ({ ok: false, reason: translate('en', text.key, text.params), text });

/** `reason` in English (logs); `text` the same as a catalogue key and parameters. */
export type KeychainCheck = { ok: true } | { ok: false; reason: string; text?: Text };

/**
 * Whether an OS keychain answers: writes, reads back and deletes a random probe entry, all within
 * `timeoutMs` (a missing or locked Secret Service can otherwise hang). Never throws.
 */
export async function checkKeychain(timeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS, opts: Omit<KeychainOptions, 'timeoutMs'> = {}): Promise<KeychainCheck> {
  const store = new KeychainSecretStore({ ...opts, timeoutMs });
  const ref = `probe_${randomUUID()}`;
  const value = randomBytes(12).toString('hex');
  const probe = async (): Promise<KeychainCheck> => {
    await store.set(ref, value);
    const read = await store.get(ref);
    await store.delete(ref);
    if (read !== value) return failed({ key: 'coreRest.secrets.probeValue' });
    if ((await store.get(ref)) !== null) return failed({ key: 'coreRest.secrets.probeDelete' });
    return { ok: true };
  };
  try {
    // Each call has its own bound; this one bounds the whole probe.
    return await withTimeout(timeoutMs, probe);
  } catch (e) {
    if (e instanceof TimeoutError) return failed(noAnswer(timeoutMs));
    return failed(reasonOf(e));
  }
}

/** True when an OS keychain answers within `timeoutMs`. */
export async function probeKeychain(timeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS, opts: Omit<KeychainOptions, 'timeoutMs'> = {}): Promise<boolean> {
  return (await checkKeychain(timeoutMs, opts)).ok;
}
