import ccxt from 'ccxt';
import { AppError, type ErrorCode } from '../../shared/errors';
import type { MessageKey, Text } from '../../shared/i18n';

/**
 * CCXT's error hierarchy → the app's codes, with a message a person can act on. CCXT's distinction
 * is kept in `details.retryable`: network errors may be retried; exchange errors may not.
 */
const EXCHANGE_CODE = /"code"\s*:\s*(-?\d+)/;
const EXCHANGE_MSG = /"msg"\s*:\s*"([^"]{1,200})"/;

/** Strip anything that could be a credential from an exchange's message (signatures, keys). */
function scrub(text: string): string {
  return text.replace(/(signature|apiKey|api_key|secret|X-MBX-APIKEY)[=:]\s*[^\s&"]+/gi, '$1=[redacted]').replace(/[A-Za-z0-9]{48,}/g, '[redacted]').slice(0, 300);
}

function exchangeDetail(e: Error): { code?: string; msg?: string } {
  const code = EXCHANGE_CODE.exec(e.message)?.[1];
  const msg = EXCHANGE_MSG.exec(e.message)?.[1];
  return { code, msg };
}

export function mapExchangeError(e: unknown, exchangeId: string, timeoutMs: number): AppError {
  if (e instanceof AppError) return e;
  if (!(e instanceof Error)) return new AppError('exchange_error', 'errors.exchanges.unexpectedFailure', { exchangeId });
  const { code, msg } = exchangeDetail(e);
  const said = code || msg ? ` (code ${code ?? '?'}${msg ? `: ${msg}` : ''})` : '';
  const make = (c: ErrorCode, key: MessageKey, retryable: boolean, more: Record<string, unknown> = {}) =>
    new AppError(c, key, { exchangeId, said, ...more }, { exchange: exchangeId, exchangeCode: code ?? null, exchangeMessage: msg ? scrub(msg) : scrub(e.message), retryable, kind: e.constructor.name });

  // Exchange codes that CCXT classifies loosely (Binance: -2015 can surface as DDoSProtection after a
  // first successful private call; -1013 filter failures as BadRequest).
  if (exchangeId.startsWith('binance')) {
    if (code === '-2014' || code === '-2015' || code === '-1022') return make('exchange_auth', 'errors.exchanges.refusedKey', false);
    if (code === '-1013' || /Filter failure/i.test(e.message)) return make('invalid_order', 'errors.exchanges.refusedOrder', false);
  }
  if (e instanceof ccxt.AuthenticationError) return make('exchange_auth', 'errors.exchanges.refusedKey', false);
  if (e instanceof ccxt.PermissionDenied || e instanceof ccxt.AccountSuspended) return make('exchange_permission', 'errors.exchanges.denied', false);
  if (e instanceof ccxt.InsufficientFunds) return make('insufficient_funds', 'errors.exchanges.insufficientFunds', false);
  if (e instanceof ccxt.OrderNotFound) return make('not_found', 'errors.exchanges.orderNotFound', false);
  if (e instanceof ccxt.InvalidOrder) return make('invalid_order', 'errors.exchanges.refusedOrder', false);
  if (e instanceof ccxt.BadSymbol) return make('invalid_input', 'errors.exchanges.badSymbol', false);
  if (e instanceof ccxt.RateLimitExceeded || e instanceof ccxt.DDoSProtection) return make('exchange_rate_limit', 'errors.exchanges.rateLimit', true);
  if (e instanceof ccxt.RequestTimeout) return make('exchange_network', 'errors.exchanges.timeout', true, { timeout: timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms` });
  if (e instanceof ccxt.OnMaintenance || e instanceof ccxt.ExchangeNotAvailable) {
    if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|ECONNRESET|socket hang up/i.test(e.message)) return make('exchange_network', 'errors.exchanges.unreachable', true, { reason: networkReason(e.message) });
    return make('exchange_down', 'errors.exchanges.down', true);
  }
  if (e instanceof ccxt.NetworkError) return make('exchange_network', 'errors.exchanges.unreachable', true, { reason: networkReason(e.message) });
  if (e instanceof ccxt.NotSupported) return make('invalid_input', 'errors.exchanges.notSupported', false);
  if (e instanceof ccxt.ExchangeError) return make('exchange_error', 'errors.exchanges.refusedRequest', false);
  if (/ECONNREFUSED|ENOTFOUND|fetch failed/i.test(e.message)) return make('exchange_network', 'errors.exchanges.unreachable', true, { reason: networkReason(e.message) });
  return make('exchange_error', 'errors.exchanges.other', false, { reason: scrub(e.message) });
}

function networkReason(m: string): Text {
  if (/ECONNREFUSED/.test(m)) return { key: 'errors.exchanges.net.refused' };
  if (/ENOTFOUND|EAI_AGAIN/.test(m)) return { key: 'errors.exchanges.net.notFound' };
  if (/timed? ?out/i.test(m)) return { key: 'errors.exchanges.net.timedOut' };
  if (/ECONNRESET|socket hang up/.test(m)) return { key: 'errors.exchanges.net.reset' };
  return { key: 'errors.exchanges.net.other' };
}
