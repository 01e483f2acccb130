/**
 * Timeframes of the heartbeat and symbol names between CCXT and Binance. Runs on both sides (no Node
 * or DOM APIs). All boundaries are UTC: a 4h candle opens at 00:00, 04:00, 08:00 … UTC; since every
 * timeframe here divides a day, flooring epoch milliseconds gives exactly those boundaries.
 */
export const TIMEFRAMES = ['1m', '3m', '5m', '10m', '15m', '1h', '2h', '4h'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export const MINUTE_MS = 60_000;

const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': MINUTE_MS,
  '3m': 3 * MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '10m': 10 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '2h': 120 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
};

/** The timeframes built from 1m candles (all but 1m), shortest first. */
export const AGGREGATED_TIMEFRAMES: readonly Exclude<Timeframe, '1m'>[] = TIMEFRAMES.filter((tf): tf is Exclude<Timeframe, '1m'> => tf !== '1m');
/** The longest timeframe: every other one divides it. */
export const LONGEST_TIMEFRAME: Timeframe = '4h';

export function isTimeframe(s: string): s is Timeframe {
  return Object.prototype.hasOwnProperty.call(TIMEFRAME_MS, s);
}

/** Length of a timeframe in milliseconds. */
export function timeframeMs(tf: Timeframe): number {
  return TIMEFRAME_MS[tf];
}

/** Number of 1m candles in one candle of this timeframe. */
export function timeframeMinutes(tf: Timeframe): number {
  return TIMEFRAME_MS[tf] / MINUTE_MS;
}

/** The open time of the candle of `tf` containing the instant `ms` (UTC boundaries). */
export function floorToTimeframe(ms: number, tf: Timeframe): number {
  const d = TIMEFRAME_MS[tf];
  return Math.floor(ms / d) * d;
}

/** Binance-style close time of a candle: the last millisecond inside it. */
export function candleCloseTime(openTime: number, tf: Timeframe): number {
  return openTime + TIMEFRAME_MS[tf] - 1;
}

// ─── Symbols ─────────────────────────────────────────────────────────────────────────────────────

/**
 * A market as listed by the exchange (a CCXT market has these fields): the unified symbol
 * 'BTC/USDT' and the exchange's own id 'BTCUSDT'. When `id` is absent it is `base + quote`.
 */
export interface MarketRef {
  symbol: string;
  id?: string;
  base?: string;
  quote?: string;
}

/**
 * Two-way mapping between CCXT symbols and Binance ids / stream names, built from the market list.
 * The reverse direction ('ETHBTC' → 'ETH/BTC') is only known from the list: never guessed by splitting.
 */
export class SymbolIndex {
  private readonly byUnified = new Map<string, string>();
  private readonly byId = new Map<string, string>();
  private readonly byLowerId = new Map<string, string>();

  constructor(markets: Iterable<MarketRef> = []) {
    for (const m of markets) this.add(m);
  }

  add(m: MarketRef): void {
    const id = m.id ?? (m.base !== undefined && m.quote !== undefined ? m.base + m.quote : m.symbol.replace('/', ''));
    this.byUnified.set(m.symbol, id);
    this.byId.set(id, m.symbol);
    this.byLowerId.set(id.toLowerCase(), m.symbol);
  }

  has(symbol: string): boolean {
    return this.byUnified.has(symbol);
  }

  get size(): number {
    return this.byUnified.size;
  }

  /** 'BTC/USDT' → 'BTCUSDT' (undefined when the market is not listed). */
  toExchangeId(symbol: string): string | undefined {
    return this.byUnified.get(symbol);
  }

  /** 'BTC/USDT' → 'btcusdt' (the form used in stream names). */
  toStreamSymbol(symbol: string): string | undefined {
    return this.byUnified.get(symbol)?.toLowerCase();
  }

  /** 'BTCUSDT' or 'btcusdt' → 'BTC/USDT' (undefined when not listed). */
  fromExchangeId(id: string): string | undefined {
    return this.byId.get(id) ?? this.byLowerId.get(id.toLowerCase());
  }

  symbols(): string[] {
    return [...this.byUnified.keys()];
  }
}

/** 'BTC/USDT' → 'BTCUSDT' given the market list. */
export function toBinanceId(symbol: string, markets: Iterable<MarketRef>): string | undefined {
  return new SymbolIndex(markets).toExchangeId(symbol);
}

/** 'BTCUSDT' / 'btcusdt' → 'BTC/USDT' given the market list. */
export function fromBinanceId(id: string, markets: Iterable<MarketRef>): string | undefined {
  return new SymbolIndex(markets).fromExchangeId(id);
}

/** The 1m kline stream name of a Binance id: 'BTCUSDT' → 'btcusdt@kline_1m'. */
export function klineStreamName(exchangeId: string, interval = '1m'): string {
  return `${exchangeId.toLowerCase()}@kline_${interval}`;
}
