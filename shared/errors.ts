import { translate, type MessageKey, type Params, type Text } from './i18n';

/**
 * Stable error codes that cross the API. A code is part of the public interface: scripts match on it.
 * The message is for a person and says what to do; it never contains a secret.
 */
export const ERROR_CODES = [
  'invalid_input',
  'unknown_method',
  'unauthenticated',
  'wrong_password',
  'too_many_attempts',
  'conflict',
  'not_found',
  'unavailable',
  'secrets_unavailable',
  'already_running',
  'exchange_auth',
  'exchange_permission',
  'exchange_network',
  'exchange_rate_limit',
  'exchange_down',
  'insufficient_funds',
  'invalid_order',
  'exchange_error',
  'cancelled',
  // AI assistant: our own per-profile limit, the assistant switched off, and the provider's answers
  'rate_limited',
  'ai_off',
  'ai_unreachable',
  'ai_auth',
  'ai_unknown_model',
  'ai_timeout',
  'ai_rate_limit',
  'ai_provider_error',
  'strategy_error',
  'strategy_timeout',
  'strategy_memory',
  // the road to live: a live activation started with red steps and no override
  'gate_closed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * An error as it crosses the API: the stable `code`, the catalogue `key` and its `params` (the
 * renderer words them in the user's language), and `message`, the same text in English, produced from
 * the English catalogue (scripts, logs and tests read it).
 */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  key: string;
  params: Params;
  details?: unknown;
}

/**
 * Parameter values as they cross the wire: numbers stay numbers (plural forms), an AppError or a
 * `{key, params}` stays a message (worded in the same language as the sentence around it), anything
 * else (a Decimal, a boolean) becomes its text. Secrets never go in: they are never in a message.
 */
export function wireParams(params?: Record<string, unknown>): Params {
  const out: Params = {};
  if (!params) return out;
  for (const [name, v] of Object.entries(params)) {
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string') out[name] = v;
    else if (v instanceof AppError) out[name] = v.text;
    else if (typeof v === 'object' && typeof (v as Text).key === 'string') out[name] = { key: (v as Text).key, params: (v as Text).params ?? {} };
    else out[name] = String(v);
  }
  return out;
}

/**
 * A domain error: a stable code, and a catalogue key with its parameters (shared/i18n, area files
 * `errors-<area>.ts`); its `message` is the key's English wording. Raise it as
 * `new AppError('not_found', 'errors.trading.noSuchOrder', { id }, details?)`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly key: MessageKey;
  readonly params: Params;
  readonly details?: unknown;
  constructor(code: ErrorCode, key: MessageKey, params?: Record<string, unknown>, details?: unknown) {
    const p = wireParams(params);
    super(translate('en', key, p));
    this.name = 'AppError';
    this.code = code;
    this.key = key;
    this.params = p;
    this.details = details;
  }
  /** The message as a key and parameters (a cause inside another message). */
  get text(): Text {
    return { key: this.key, params: this.params };
  }
  toPayload(): ErrorPayload {
    const base = { code: this.code, message: this.message, key: this.key, params: this.params };
    return this.details === undefined ? base : { ...base, details: this.details };
  }
}

/** The wire form of an error raised outside a handler (dispatch, transport, startup). */
export function errorPayload(code: ErrorCode, key: MessageKey, params?: Record<string, unknown>, details?: unknown): ErrorPayload {
  return new AppError(code, key, params, details).toPayload();
}

/**
 * A sentence the core writes for a person outside an error (a decision's reason, a journal line, a
 * state): its English `text` (stored and sent as the public API) with the catalogue key and
 * parameters beside it, which the renderer words in the reader's language. One definition for every
 * domain (the bot, webhooks, trading, the secret store).
 */
export interface CoreSentence {
  text: string;
  key: string;
  params: Params;
}
export function sentence(key: MessageKey, params?: Record<string, unknown>): CoreSentence {
  const p = wireParams(params);
  return { text: translate('en', key, p), key, params: p };
}

/** Text from outside the app (an exchange's or the OS's own words, a strategy's exception), shown as is. */
export function externalError(code: ErrorCode, reason: unknown, details?: unknown): AppError {
  return new AppError(code, 'errors.external', { reason: reason instanceof Error ? reason.message : String(reason) }, details);
}

/** A bad input named by its field: `invalid_input` whose one issue carries the same key and params. */
export function invalidField(path: string, key: MessageKey, params: Record<string, unknown> = {}): AppError {
  const p = wireParams(params);
  return new AppError('invalid_input', key, p, { issues: [{ path, message: translate('en', key, p), key, params: p }] });
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
