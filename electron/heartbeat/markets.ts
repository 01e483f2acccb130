import type { Database } from '../db/database';
import type { MarketRef } from '../../shared/timeframes';

/**
 * Binance's markets for the heartbeat: the stored ones (`markets.update`) when there are any, else
 * the public exchangeInfo of the REST API (no key needed), so the default BTC/USDT works on a fresh
 * install. Cached for an hour; a failure is thrown (the service then says the list is unavailable).
 */
export function binanceMarkets(db: Database, restUrl: string, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): () => Promise<readonly MarketRef[]> {
  let cache: { at: number; list: MarketRef[] } | null = null;
  const doFetch = opts.fetch ?? fetch;
  return async () => {
    const { rows } = await db.query<{ symbol: string; exchange_symbol: string; base: string; quote: string }>(
      "SELECT symbol, exchange_symbol, base, quote FROM exchange_symbols WHERE exchange = 'binance' AND type = 'spot'",
    );
    if (rows.length) return rows.map((r) => ({ symbol: r.symbol, id: r.exchange_symbol, base: r.base, quote: r.quote }));
    if (cache && Date.now() - cache.at < 3600_000) return cache.list;
    const res = await doFetch(`${restUrl.replace(/\/+$/, '')}/api/v3/exchangeInfo`, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    if (!res.ok) throw new Error(`exchangeInfo answered HTTP ${res.status}`);
    const body = (await res.json()) as { symbols?: { symbol: string; status?: string; baseAsset: string; quoteAsset: string }[] };
    const list = (body.symbols ?? []).filter((s) => !s.status || s.status === 'TRADING').map((s) => ({ symbol: `${s.baseAsset}/${s.quoteAsset}`, id: s.symbol, base: s.baseAsset, quote: s.quoteAsset }));
    cache = { at: Date.now(), list };
    return list;
  };
}
