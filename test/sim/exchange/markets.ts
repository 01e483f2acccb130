import Decimal from 'decimal.js';
import type { PriceSeries } from '../series';

/**
 * Decimal with room for products of 8-decimal prices and quantities (the global default keeps only
 * 20 significant digits). Every amount the simulator computes goes through `D`.
 */
export const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });

/** Binance sends every amount and price of a spot symbol with 8 decimals ("0.01000000"). */
export const fmt = (d: Decimal): string => d.toFixed(8);

export type SymbolStatus = 'TRADING' | 'BREAK' | 'HALT';

/** How a test describes a market; everything but `symbol` has a default derived from the series. */
export interface MarketSpec {
  symbol: string; // CCXT style, 'BTC/USDT'
  tickSize?: Decimal.Value;
  minPrice?: Decimal.Value;
  maxPrice?: Decimal.Value;
  stepSize?: Decimal.Value;
  minQty?: Decimal.Value;
  maxQty?: Decimal.Value;
  minNotional?: Decimal.Value;
  maxNotional?: Decimal.Value;
  maxNumOrders?: number;
  status?: SymbolStatus;
  /** The order types the symbol accepts (default: all of `ORDER_TYPES`); without the stop types, no OCO either. */
  orderTypes?: readonly string[];
}

export interface SimMarket {
  symbol: string; // 'BTC/USDT'
  id: string; // 'BTCUSDT'
  base: string;
  quote: string;
  tickSize: Decimal;
  minPrice: Decimal;
  maxPrice: Decimal;
  stepSize: Decimal;
  minQty: Decimal;
  maxQty: Decimal;
  minNotional: Decimal;
  maxNotional: Decimal;
  maxNumOrders: number;
  status: SymbolStatus;
  orderTypes: readonly string[];
  /** OCO order lists allowed (both stop types accepted). */
  ocoAllowed: boolean;
}

/** The precision Binance declares for every asset of a spot symbol. */
export const ASSET_PRECISION = 8;
export const ORDER_TYPES = ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'] as const;
const STABLE = new Set(['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'EUR']);

function defaultMinNotional(quote: string): Decimal {
  if (STABLE.has(quote)) return new D(5);
  if (quote === 'BTC') return new D('0.0001');
  if (quote === 'ETH') return new D('0.001');
  return new D(1);
}

export function buildMarket(spec: MarketSpec, series: PriceSeries): SimMarket {
  const parts = spec.symbol.split('/');
  const base = parts[0];
  const quote = parts[1];
  if (parts.length !== 2 || !base || !quote) throw new Error(`market symbol must look like BASE/QUOTE: ${spec.symbol}`);
  const s = series.symbols[spec.symbol];
  if (!s) throw new Error(`market ${spec.symbol} is not in the price series`);
  const tickSize = new D(spec.tickSize ?? new D(10).pow(-s.priceDecimals));
  const stepSize = new D(spec.stepSize ?? new D(10).pow(-s.volumeDecimals));
  const big = s.base >= 1000;
  return {
    symbol: spec.symbol,
    id: `${base}${quote}`,
    base,
    quote,
    tickSize,
    minPrice: new D(spec.minPrice ?? tickSize),
    maxPrice: new D(spec.maxPrice ?? (s.base < 1 ? 1000 : 1_000_000)),
    stepSize,
    minQty: new D(spec.minQty ?? stepSize),
    maxQty: new D(spec.maxQty ?? (big ? 9000 : 9_000_000)),
    minNotional: new D(spec.minNotional ?? defaultMinNotional(quote)),
    maxNotional: new D(spec.maxNotional ?? (STABLE.has(quote) ? 9_000_000 : 9000)),
    maxNumOrders: spec.maxNumOrders ?? 200,
    status: spec.status ?? 'TRADING',
    orderTypes: [...(spec.orderTypes ?? ORDER_TYPES)],
    ocoAllowed: (spec.orderTypes ?? ORDER_TYPES).includes('STOP_LOSS') && (spec.orderTypes ?? ORDER_TYPES).includes('TAKE_PROFIT'),
  };
}

export function defaultMarketSpecs(series: PriceSeries): MarketSpec[] {
  return Object.keys(series.symbols).map((symbol) => ({ symbol }));
}

/** One entry of `exchangeInfo.symbols`, shaped as Binance sends it for a spot symbol. */
export function symbolInfo(m: SimMarket): Record<string, unknown> {
  return {
    symbol: m.id,
    status: m.status,
    baseAsset: m.base,
    baseAssetPrecision: ASSET_PRECISION,
    quoteAsset: m.quote,
    quotePrecision: ASSET_PRECISION,
    quoteAssetPrecision: ASSET_PRECISION,
    baseCommissionPrecision: ASSET_PRECISION,
    quoteCommissionPrecision: ASSET_PRECISION,
    orderTypes: [...m.orderTypes],
    icebergAllowed: false,
    ocoAllowed: m.ocoAllowed,
    otoAllowed: false,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: false,
    cancelReplaceAllowed: true,
    amendAllowed: false,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: fmt(m.minPrice), maxPrice: fmt(m.maxPrice), tickSize: fmt(m.tickSize) },
      { filterType: 'LOT_SIZE', minQty: fmt(m.minQty), maxQty: fmt(m.maxQty), stepSize: fmt(m.stepSize) },
      { filterType: 'MIN_NOTIONAL', minNotional: fmt(m.minNotional), applyToMarket: true, avgPriceMins: 5 },
      {
        filterType: 'NOTIONAL',
        minNotional: fmt(m.minNotional),
        applyMinToMarket: true,
        maxNotional: fmt(m.maxNotional),
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: m.maxNumOrders },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'NONE',
    allowedSelfTradePreventionModes: ['NONE'],
  };
}
