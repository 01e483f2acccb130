import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';
import { sentence, type CoreSentence } from '../../shared/errors';
import type { MessageKey, Text } from '../../shared/i18n';

/**
 * The alert message TradingView posts (the original design's vocabulary):
 *
 *   { "secret": "…", "id": "{{strategy.order.id}}-{{timenow}}", "broker": "<broker name>",
 *     "symbol": "{{ticker}}", "action": "PING | BuyMarket | SellMarket | BuyLimit | SellLimit | MAJ",
 *     "price": "{{close}}", "amount": "…" | "percent": 50, "sl": "…", "tp": "…",
 *     "interval": "{{interval}}", "expect": 5, "sender": "…" }
 *
 * Pure parsing and checking; nothing here touches the database or an exchange.
 */

export const ACTIONS = ['PING', 'BuyMarket', 'SellMarket', 'BuyLimit', 'SellLimit', 'MAJ'] as const;
export type Action = (typeof ACTIONS)[number];
const ACTION_BY_LOWER = new Map(ACTIONS.map((a) => [a.toLowerCase(), a]));

export interface Alert {
  action: Action;
  id: string | null;
  broker: string | null;
  symbol: string | null;
  price: Decimal | null;
  amount: Decimal | null;
  percent: Decimal | null;
  sl: Decimal | null;
  tp: Decimal | null;
  interval: string | null;
  expect: number | null;
  sender: string | null;
}

/**
 * A sentence for the journal: its catalogue key and parameters, and the same in English (`text`,
 * what the `reason` column and the API keep). Keys `coreWebhooks.*` (shared/i18n/en/coreWebhooks.ts).
 */
export type Reason = CoreSentence;

/** A journal sentence by key; parameters may be other sentences (`{key, params}`), worded in the same language. */
export const reason = sentence;

/** A sentence as a parameter of another one. */
export const nested = (r: Reason): Text => ({ key: r.key, params: r.params });

/** A refusal of the alert with the HTTP status it gets and a reason a person can act on (by key: `reason`). */
export class AlertError extends Error {
  readonly reason: Reason;
  constructor(
    readonly status: 400 | 401 | 415 | 422,
    key: MessageKey,
    params?: Record<string, unknown>,
  ) {
    const r = reason(key, params);
    super(r.text);
    this.reason = r;
  }
}

export const MAX_BODY = 64 * 1024;
const MAX_ID = 200;

/** Text PostgreSQL can store: no NUL characters. */
export function storable(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** A value PostgreSQL can store as jsonb: no NUL characters in its strings, nested. */
export function storableValue(v: unknown): unknown {
  if (typeof v === 'string') return storable(v);
  if (Array.isArray(v)) return v.map(storableValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [storable(k), storableValue(x)]));
  return v;
}

/** The body with every `"secret": "…"` value replaced, for the journal (at most 4 KB). */
export function scrubRaw(body: string): string {
  return storable(body).replace(/("secret"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/gi, '$1"•••"').slice(0, 4096);
}

/** The parsed object with its secret replaced, for the journal. */
export function scrubPayload(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[storable(k)] = k.toLowerCase() === 'secret' ? '•••' : storableValue(v);
  return out;
}

/** application/json or text/plain (TradingView sends its message as text/plain); null for anything else. */
export function acceptedContentType(header: string | undefined): 'json' | 'text' | null {
  const t = (header ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'application/json') return 'json';
  if (t === 'text/plain' || t === '') return 'text';
  return null;
}

/** Parses the body as a JSON object (either content type carries JSON). */
export function parseBody(body: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new AlertError(400, 'coreWebhooks.refused.notJson', { error: (e as Error).message.slice(0, 120) });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AlertError(400, 'coreWebhooks.refused.notObject', { example: '{"secret": "…", "action": "PING"}' });
  return v as Record<string, unknown>;
}

function text(obj: Record<string, unknown>, key: string, max = 100): string | null {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' && typeof v !== 'number') throw new AlertError(422, 'coreWebhooks.refused.mustBeString', { field: key });
  const s = String(v).trim();
  if (s.length > max) throw new AlertError(422, 'coreWebhooks.refused.tooLong', { field: key, max });
  return s === '' ? null : s;
}

const DECIMAL = /^\d+(\.\d+)?$|^\d*\.\d+$/;

/** A positive decimal given as a string or a JSON number; null when absent. */
function positive(obj: Record<string, unknown>, key: string): Decimal | null {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number' && !Number.isFinite(v)) throw new AlertError(422, 'coreWebhooks.refused.notFinite', { field: key });
  if (typeof v !== 'string' && typeof v !== 'number') throw new AlertError(422, 'coreWebhooks.refused.numberExample', { field: key });
  const s = String(v).trim();
  if (/^-/.test(s)) throw new AlertError(422, 'coreWebhooks.refused.negative', { field: key, value: s.slice(0, 40) });
  // Strings are plain decimals ("0.001"); JSON numbers may print in exponent form (1e-7).
  if (typeof v === 'string' && !DECIMAL.test(s)) throw new AlertError(422, 'coreWebhooks.refused.notNumber', { field: key, value: s.slice(0, 40) });
  const d = new Decimal(v);
  if (!d.isFinite() || d.gte('1e20')) throw new AlertError(422, 'coreWebhooks.refused.tooBig', { field: key });
  if (!d.gt(0)) throw new AlertError(422, 'coreWebhooks.refused.notPositive', { field: key });
  return d;
}

/** The secret as sent (string), or null when missing. */
export function secretOf(obj: Record<string, unknown>): string | null {
  const v = obj.secret;
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * Checks the alert's fields (the secret was checked before). The reasons name the field and what
 * to write instead.
 */
export function parseAlert(obj: Record<string, unknown>): Alert {
  const rawAction = obj.action;
  if (typeof rawAction !== 'string' || rawAction.trim() === '') throw new AlertError(422, 'coreWebhooks.refused.actionRequired', { actions: ACTIONS.join(', ') });
  const action = ACTION_BY_LOWER.get(rawAction.trim().toLowerCase());
  if (!action) throw new AlertError(422, 'coreWebhooks.refused.unknownAction', { action: rawAction.slice(0, 40), actions: ACTIONS.join(', ') });
  const alert: Alert = {
    action,
    id: text(obj, 'id', MAX_ID),
    broker: text(obj, 'broker'),
    symbol: text(obj, 'symbol', 60),
    price: positive(obj, 'price'),
    amount: positive(obj, 'amount'),
    percent: positive(obj, 'percent'),
    sl: positive(obj, 'sl'),
    tp: positive(obj, 'tp'),
    interval: text(obj, 'interval', 20),
    expect: null,
    sender: text(obj, 'sender'),
  };
  if (obj.expect !== undefined && obj.expect !== null && obj.expect !== '') {
    const n = Number(obj.expect);
    if ((typeof obj.expect !== 'number' && typeof obj.expect !== 'string') || !Number.isInteger(n) || n <= 0 || n > 10_080) throw new AlertError(422, 'coreWebhooks.refused.expect');
    alert.expect = n;
  }
  if (action === 'PING') return alert;
  if (!alert.id) throw new AlertError(422, 'coreWebhooks.refused.idRequired', { action, example: '{{strategy.order.id}}-{{timenow}}' });
  if (!alert.symbol) throw new AlertError(422, 'coreWebhooks.refused.symbolRequired', { action, example: '{{ticker}}' });
  if (action === 'MAJ') {
    if (!alert.sl && !alert.tp) throw new AlertError(422, 'coreWebhooks.refused.majNeedsLevels');
  } else {
    if (alert.amount && alert.percent) throw new AlertError(422, 'coreWebhooks.refused.amountAndPercent');
    if (!alert.amount && !alert.percent) throw new AlertError(422, 'coreWebhooks.refused.amountOrPercent', { action });
    if (alert.percent && alert.percent.gt(100)) throw new AlertError(422, 'coreWebhooks.refused.percentMax');
    if ((action === 'BuyLimit' || action === 'SellLimit') && !alert.price) throw new AlertError(422, 'coreWebhooks.refused.limitNeedsPrice', { action, example: '{{close}}' });
  }
  if (alert.sl && alert.tp && !alert.sl.lt(alert.tp)) throw new AlertError(422, 'coreWebhooks.refused.slBelowTp', { sl: alert.sl.toFixed(), tp: alert.tp.toFixed() });
  return alert;
}

/** TradingView's ticker (`BINANCE:BTCUSDT`, `BTCUSDT.P`, `BTC/USDT`) as a lookup key: `BTCUSDT`, plus whether it named a perpetual. */
export function tickerKey(symbol: string): { key: string; perpetual: boolean } {
  let s = symbol.trim().toUpperCase();
  const colon = s.indexOf(':');
  if (colon >= 0 && !s.includes('/')) s = s.slice(colon + 1);
  const perpetual = s.endsWith('.P') || s.endsWith('PERP');
  if (s.endsWith('.P')) s = s.slice(0, -2);
  return { key: s.replace(/[/:\-_.]/g, ''), perpetual };
}

/** The same key for a market of the exchange (`BTC/USDT` → `BTCUSDT`; `BTC/USDT:USDT` → `BTCUSDT`, a swap). */
export function marketKey(symbol: string): { key: string; swap: boolean } {
  const [pair = symbol, settle] = symbol.toUpperCase().split(':');
  return { key: pair.replace(/[/\-_.]/g, ''), swap: settle !== undefined };
}

/**
 * The client order id of a webhook's order: derived from the profile and the alert's `id`, so the same
 * alert (a retry, a restart while processing) always names the same order. `a3w` + 30 hex digits.
 */
export function webhookClientOrderId(profileId: string, key: string): string {
  return `a3w${createHash('sha256').update(`${profileId}\n${key}`).digest('hex').slice(0, 30)}`;
}

/** A sender's name: `sender` when given, else the symbol and interval, else "default". */
export function senderName(a: Alert): string {
  if (a.sender) return a.sender;
  const parts = [a.symbol, a.interval].filter((x): x is string => !!x);
  return parts.length ? parts.join(' ') : 'default';
}
