import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Binance SIGNED-endpoint security: HMAC-SHA256 of `totalParams` (the query string concatenated with
 * the request body, without a separator and without the `signature` parameter itself) keyed with
 * the account's secret, hex, compared case-insensitively.
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A 64-character alphanumeric string, the shape of a real Binance API key or secret. */
export function randomKey(): string {
  const bytes = randomBytes(64);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

export function generateCredentials(): { apiKey: string; secret: string } {
  return { apiKey: randomKey(), secret: randomKey() };
}

/** Whether an unknown key at least looks like a Binance key (decides -2015 vs -2014). */
export function isWellFormedKey(apiKey: string): boolean {
  return /^[A-Za-z0-9]{64}$/.test(apiKey);
}

export function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** Splits `signature=` out of a raw (still URL-encoded) query string or form body. */
export function stripSignature(raw: string): { rest: string; signature?: string } {
  if (raw === '') return { rest: '' };
  let signature: string | undefined;
  const kept: string[] = [];
  for (const part of raw.split('&')) {
    if (part.startsWith('signature=')) signature = decodeURIComponent(part.slice('signature='.length));
    else kept.push(part);
  }
  return signature === undefined ? { rest: kept.join('&') } : { rest: kept.join('&'), signature };
}

/** True when `signature` is the HMAC of `totalParams` (query + body, each without the signature). */
export function verifySignature(secret: string, totalParams: string, signature: string): boolean {
  const expected = Buffer.from(hmacHex(secret, totalParams), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Builds a signed query string the way a Binance client does (for raw-HTTP tests and tools). */
export function signedQuery(secret: string, params: Record<string, string | number>): string {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return `${query}&signature=${hmacHex(secret, query)}`;
}
