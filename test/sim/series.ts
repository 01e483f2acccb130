import Decimal from 'decimal.js';

/**
 * A deterministic price series shared by the exchange simulator (REST) and the stream simulator
 * (WebSocket): the same seed gives the same 1m candles on both, for any minute, without state.
 *
 * price(t) at each minute boundary = base × (1 + slow wave + fast wave + hashed noise), so the close
 * of minute m is exactly the open of minute m+1. Between boundaries (the live ticker) the price is
 * interpolated. A test can script the price with `setPrice` (for example to make a limit order cross).
 */
export interface SimCandle {
  openTime: number; // ms since the epoch, on a minute boundary
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export interface SeriesSymbol {
  base: number; // typical price
  priceDecimals: number; // e.g. 2 for BTC/USDT
  volumeDecimals: number;
}

export const DEFAULT_SYMBOLS: Record<string, SeriesSymbol> = {
  'BTC/USDT': { base: 60000, priceDecimals: 2, volumeDecimals: 5 },
  'ETH/USDT': { base: 3000, priceDecimals: 2, volumeDecimals: 4 },
  'BNB/USDT': { base: 600, priceDecimals: 2, volumeDecimals: 3 },
  'SOL/USDT': { base: 150, priceDecimals: 2, volumeDecimals: 3 },
  'ETH/BTC': { base: 0.05, priceDecimals: 5, volumeDecimals: 4 },
  'BTC/USDC': { base: 60000, priceDecimals: 2, volumeDecimals: 5 },
};

const MINUTE = 60_000;

function hash01(seed: number, a: number, b: number): number {
  // xorshift-style integer hash → [0, 1)
  let h = (seed ^ Math.imul(a | 0, 0x9e3779b1) ^ Math.imul((b / 4294967296) | 0, 0x85ebca6b) ^ Math.imul(b | 0, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 4294967296;
}

function symbolKey(symbol: string): number {
  let k = 7;
  for (const ch of symbol) k = (Math.imul(k, 31) + ch.charCodeAt(0)) | 0;
  return k;
}

export class PriceSeries {
  readonly symbols: Record<string, SeriesSymbol>;
  private readonly overrides = new Map<string, Decimal>();

  constructor(
    readonly seed = 42,
    symbols: Record<string, SeriesSymbol> = DEFAULT_SYMBOLS,
  ) {
    this.symbols = { ...symbols };
  }

  has(symbol: string): boolean {
    return symbol in this.symbols;
  }

  private spec(symbol: string): SeriesSymbol {
    const s = this.symbols[symbol];
    if (!s) throw new Error(`unknown symbol in price series: ${symbol}`);
    return s;
  }

  /** Price exactly at a minute boundary (unscripted). */
  private boundary(symbol: string, minuteMs: number): Decimal {
    const s = this.spec(symbol);
    const t = minuteMs / MINUTE;
    const k = symbolKey(symbol);
    const slow = 0.03 * Math.sin((2 * Math.PI * t) / 360 + (k % 7));
    const fast = 0.006 * Math.sin((2 * Math.PI * t) / 47 + (k % 5));
    const noise = 0.002 * (hash01(this.seed, k, t) - 0.5);
    return new Decimal(s.base * (1 + slow + fast + noise)).toDecimalPlaces(s.priceDecimals);
  }

  /** The live price at any instant: the scripted price if one is set, else interpolated. */
  priceAt(symbol: string, ms: number): Decimal {
    const o = this.overrides.get(symbol);
    if (o) return o;
    const s = this.spec(symbol);
    const m0 = Math.floor(ms / MINUTE) * MINUTE;
    const p0 = this.boundary(symbol, m0);
    const p1 = this.boundary(symbol, m0 + MINUTE);
    return p0.plus(p1.minus(p0).times((ms - m0) / MINUTE)).toDecimalPlaces(s.priceDecimals);
  }

  /** Script the price (null returns to the series). */
  setPrice(symbol: string, price: Decimal.Value | null): void {
    this.spec(symbol);
    if (price === null) this.overrides.delete(symbol);
    else this.overrides.set(symbol, new Decimal(price));
  }

  /** The 1m candle that opens at `openTime` (floored to the minute). Deterministic for a seed. */
  candle(symbol: string, openTime: number): SimCandle {
    const s = this.spec(symbol);
    const t0 = Math.floor(openTime / MINUTE) * MINUTE;
    const open = this.boundary(symbol, t0);
    const close = this.boundary(symbol, t0 + MINUTE);
    const k = symbolKey(symbol);
    const up = 1 + 0.0015 * hash01(this.seed + 1, k, t0 / MINUTE);
    const down = 1 - 0.0015 * hash01(this.seed + 2, k, t0 / MINUTE);
    const high = Decimal.max(open, close).times(up).toDecimalPlaces(s.priceDecimals, Decimal.ROUND_UP);
    const low = Decimal.min(open, close).times(down).toDecimalPlaces(s.priceDecimals, Decimal.ROUND_DOWN);
    const volume = new Decimal(1 + 20 * hash01(this.seed + 3, k, t0 / MINUTE)).toDecimalPlaces(s.volumeDecimals);
    return {
      openTime: t0,
      open: open.toFixed(s.priceDecimals),
      high: high.toFixed(s.priceDecimals),
      low: low.toFixed(s.priceDecimals),
      close: close.toFixed(s.priceDecimals),
      volume: volume.toFixed(s.volumeDecimals),
    };
  }

  /** 1m candles with openTime in [from, to), oldest first. */
  candles(symbol: string, from: number, to: number): SimCandle[] {
    const out: SimCandle[] = [];
    for (let t = Math.ceil(from / MINUTE) * MINUTE; t < to; t += MINUTE) out.push(this.candle(symbol, t));
    return out;
  }
}
