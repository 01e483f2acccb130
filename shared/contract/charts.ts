import { z } from 'zod';
import { Id, method } from './define';
import { CandleSchema, TimeframeSchema } from './heartbeat';

/** Charts (issue 15, item 3): a broker's market candles for the Manual trading chart. */

const ChartSymbol = z.string().trim().min(3, 'symbol is required, e.g. "BTC/USDT"').max(40).regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/, 'a symbol looks like BASE/QUOTE, e.g. "BTC/USDT"');

export const MarketCandlesInput = z
  .object({
    brokerId: Id,
    symbol: ChartSymbol,
    timeframe: TimeframeSchema,
    /** the latest `limit` candles */
    limit: z.number().int().min(1).max(1000).default(300),
  })
  .strict();

export const MarketCandles = z.object({
  /**
   * `heartbeat`: the heartbeat's stored candles (the broker trades on the heartbeat's exchange, live
   * or paper, and the symbol is watched): the chart follows `heartbeat.signal` / `heartbeat.tick`.
   * `exchange`: read from the broker's exchange through CCXT (closed candles only): refresh to follow.
   */
  source: z.enum(['heartbeat', 'exchange']),
  exchange: z.string(),
  symbol: z.string(),
  timeframe: TimeframeSchema,
  /** oldest first */
  candles: z.array(CandleSchema),
});

export const chartMethods = {
  'markets.candles': method({
    input: MarketCandlesInput,
    output: MarketCandles,
    auth: 'profile',
    description: "The latest candles of a broker's market: the heartbeat's when it watches that market on the broker's exchange, else the exchange's own (CCXT fetchOHLCV, closed candles).",
  }),
} as const;

export type MarketCandlesResult = z.infer<typeof MarketCandles>;
