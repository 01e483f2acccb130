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

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** A domain error: carries a stable code and an actionable message. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  toPayload(): ErrorPayload {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
