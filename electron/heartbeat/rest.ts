import Decimal from 'decimal.js';
import { wireParams } from '../../shared/errors';
import { translate, type MessageKey, type Text } from '../../shared/i18n';
import { MINUTE_MS } from '../../shared/timeframes';
import type { MinuteCandle } from './aggregate';

/**
 * The one REST call the heartbeat needs: `GET /api/v3/klines` (1m), paged by 1000, each request
 * with a timeout. A 429 or 418 answer blocks further requests until its `Retry-After`; the error
 * carries the wait so the caller's retry honours it.
 */
export type RestErrorKind = 'timeout' | 'network' | 'rate_limited' | 'http' | 'bad_response';

/** A failed REST call: `message` in English, `text` the same by catalogue key (keys `coreHeartbeat.rest.*`). */
export class BinanceRestError extends Error {
  readonly text: Text;
  constructor(
    readonly kind: RestErrorKind,
    key: MessageKey,
    params: Record<string, unknown>,
    readonly status = 0,
    /** wait at least this long before the next request (429/418) */
    readonly retryAfterMs?: number,
  ) {
    const p = wireParams(params);
    super(translate('en', key, p));
    this.name = 'BinanceRestError';
    this.text = { key, params: p };
  }
}

export interface BinanceRestOptions {
  /** e.g. 'https://api.binance.com' */
  baseUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export const KLINES_PAGE = 1000;

const DECIMAL = /^\d+(\.\d+)?$/;

function parseRow(row: unknown): MinuteCandle | undefined {
  if (!Array.isArray(row) || row.length < 6) return undefined;
  const [t, o, h, l, c, v] = row as unknown[];
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t % MINUTE_MS !== 0) return undefined;
  for (const x of [o, h, l, c, v]) if (typeof x !== 'string' || !DECIMAL.test(x)) return undefined;
  return { openTime: t, open: new Decimal(o as string), high: new Decimal(h as string), low: new Decimal(l as string), close: new Decimal(c as string), volume: new Decimal(v as string) };
}

export class BinanceRest {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private blockedUntil = 0;

  constructor(opts: BinanceRestOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  /** Closed 1m candles of `exchangeId` ('BTCUSDT') with open time in [from, to), oldest first. */
  async klines(exchangeId: string, from: number, to: number, signal?: AbortSignal): Promise<MinuteCandle[]> {
    const out: MinuteCandle[] = [];
    let cursor = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
    const maxPages = Math.ceil((to - cursor) / MINUTE_MS / KLINES_PAGE) + 2;
    for (let page = 0; page < maxPages && cursor < to; page++) {
      const want = Math.min(KLINES_PAGE, Math.ceil((to - cursor) / MINUTE_MS));
      const rows = await this.get(`/api/v3/klines?symbol=${encodeURIComponent(exchangeId)}&interval=1m&startTime=${cursor}&endTime=${to - 1}&limit=${want}`, signal);
      if (!Array.isArray(rows)) throw new BinanceRestError('bad_response', 'coreHeartbeat.rest.notArray', {});
      let last = -1;
      for (const r of rows) {
        const c = parseRow(r);
        if (!c) throw new BinanceRestError('bad_response', 'coreHeartbeat.rest.malformedRow', { row: JSON.stringify(r).slice(0, 200) });
        if (c.openTime < cursor || c.openTime >= to || c.openTime <= last) continue;
        out.push(c);
        last = c.openTime;
      }
      if (last < 0 || rows.length < want) break;
      cursor = last + MINUTE_MS;
    }
    return out;
  }

  private async get(path: string, signal?: AbortSignal): Promise<unknown> {
    const wait = this.blockedUntil - this.now();
    if (wait > 0) throw new BinanceRestError('rate_limited', 'coreHeartbeat.rest.wait', { seconds: Math.ceil(wait / 1000) }, 429, wait);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { accept: 'application/json' } });
    } catch (e) {
      if (timeout.aborted) throw new BinanceRestError('timeout', 'coreHeartbeat.rest.timeout', { ms: this.timeoutMs });
      throw new BinanceRestError('network', 'coreHeartbeat.rest.unreachable', { error: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e) });
    }
    if (res.status === 429 || res.status === 418) {
      const ra = Number(res.headers.get('retry-after'));
      const waitMs = Number.isFinite(ra) && ra > 0 ? ra * 1000 : res.status === 418 ? 120_000 : 60_000;
      this.blockedUntil = this.now() + waitMs;
      await res.body?.cancel().catch(() => undefined);
      throw new BinanceRestError('rate_limited', 'coreHeartbeat.rest.rateLimit', { status: res.status, seconds: Math.ceil(waitMs / 1000) }, res.status, waitMs);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      if (timeout.aborted) throw new BinanceRestError('timeout', 'coreHeartbeat.rest.timeout', { ms: this.timeoutMs });
      throw new BinanceRestError(res.ok ? 'bad_response' : 'http', 'coreHeartbeat.rest.notJson', { status: res.status }, res.status);
    }
    if (!res.ok) {
      const msg = typeof body === 'object' && body !== null && 'msg' in body ? String((body as { msg: unknown }).msg) : '';
      throw new BinanceRestError('http', msg ? 'coreHeartbeat.rest.statusWhy' : 'coreHeartbeat.rest.status', { status: res.status, error: msg }, res.status);
    }
    return body;
  }
}
