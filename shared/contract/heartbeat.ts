import { z } from 'zod';
import { DecimalString, method, NoInput } from './define';
import { TIMEFRAMES } from '../timeframes';

/** The heartbeat's part of the API contract. Types used by the service are inferred from here. */

/** A CCXT unified symbol, 'BTC/USDT' (trimmed, upper-cased). */
export const MarketSymbol = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/, 'expected a symbol such as "BTC/USDT"');
export const Exchange = z.enum(['binance']);
export const TimeframeSchema = z.enum(TIMEFRAMES);
/** Milliseconds since the epoch. */
export const EpochMs = z.number().int().nonnegative();

export const CandleSchema = z.object({
  openTime: EpochMs,
  open: DecimalString,
  high: DecimalString,
  low: DecimalString,
  close: DecimalString,
  volume: DecimalString,
});

export const WatchedSymbol = z.object({ exchange: Exchange, symbol: z.string(), addedAt: EpochMs });

export const GapSchema = z.object({ symbol: z.string(), from: EpochMs, to: EpochMs });

export const HeartbeatStatusSchema = z.object({
  exchange: Exchange,
  /** the service was started and not stopped */
  running: z.boolean(),
  /** every stream connection is open */
  connected: z.boolean(),
  connections: z.number().int().nonnegative(),
  /** streams wanted (one kline stream per watched symbol) */
  streams: z.number().int().nonnegative(),
  /** streams the server confirmed on the open connections */
  subscribed: z.number().int().nonnegative(),
  symbols: z.number().int().nonnegative(),
  lastMessageAt: EpochMs.nullable(),
  startedAt: EpochMs.nullable(),
  /** some watched symbol has a gap that could not be backfilled yet (see `gaps`): signals wait */
  incoherent: z.boolean(),
  gaps: z.array(GapSchema),
  /** a backfill from the REST API is running */
  backfilling: z.boolean(),
  reconnects: z.number().int().nonnegative(),
  /** the last error in English… */
  lastError: z.string().nullable(),
  /** …and the same by catalogue key and parameters (keys `coreHeartbeat.*`): the page words it */
  lastErrorKey: z.string().nullable().optional(),
  lastErrorParams: z.record(z.string(), z.unknown()).nullable().optional(),
  /** malformed or unexpected stream messages, by kind */
  malformed: z.record(z.string(), z.number().int().nonnegative()),
});

export const HeartbeatSignalSchema = z.object({
  exchange: Exchange,
  symbol: z.string(),
  timeframe: TimeframeSchema,
  openTime: EpochMs,
  /** last millisecond inside the candle: openTime + length − 1 */
  closeTime: EpochMs,
  candle: CandleSchema,
  /** the closing minute came from a REST backfill (after a gap), not live from the stream */
  backfilled: z.boolean(),
  /** when the closing 1m message was received (ms, fractional), null when backfilled */
  receivedAt: z.number().nullable(),
});

export const HeartbeatRawSchema = z.object({
  exchange: Exchange,
  receivedAt: z.number(),
  /** the message as received (truncated to 2000 characters) */
  message: z.string(),
  /** messages not forwarded since the previous one (throttling) */
  skipped: z.number().int().nonnegative(),
});

/**
 * The 1m candle of a watched symbol as the stream moves it (every kline message, forming or
 * closing): the charts draw the candle still open with it. Not stored, and not a signal.
 */
export const HeartbeatTickSchema = z.object({
  exchange: Exchange,
  symbol: z.string(),
  candle: CandleSchema,
  /** the stream's last update of this minute (it closed) */
  closed: z.boolean(),
  receivedAt: z.number(),
});

export const CandlesQueryInput = z
  .object({
    exchange: Exchange.default('binance'),
    symbol: MarketSymbol,
    timeframe: TimeframeSchema,
    /** open time ≥ from */
    from: EpochMs.optional(),
    /** open time < to */
    to: EpochMs.optional(),
    /** the first `limit` from `from`, else the latest `limit` before `to` */
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();

export const heartbeatMethods = {
  'heartbeat.status': method({ input: NoInput, output: HeartbeatStatusSchema, auth: 'profile', description: 'State of the market-data heartbeat (connection, gaps, counters).' }),
  'heartbeat.symbols.list': method({ input: NoInput, output: z.array(WatchedSymbol), auth: 'profile', description: 'Symbols the heartbeat watches.' }),
  'heartbeat.symbols.add': method({ input: z.object({ symbol: MarketSymbol }).strict(), output: z.array(WatchedSymbol), auth: 'profile', description: 'Watch a symbol (must be listed on the exchange).' }),
  'heartbeat.symbols.remove': method({ input: z.object({ symbol: MarketSymbol }).strict(), output: z.array(WatchedSymbol), auth: 'profile', description: 'Stop watching a symbol (its stored candles are kept).' }),
  'candles.query': method({ input: CandlesQueryInput, output: z.array(CandleSchema), auth: 'profile', description: 'Stored candles, oldest first.' }),
} as const;

export const heartbeatEvents = {
  'heartbeat.signal': HeartbeatSignalSchema,
  'heartbeat.raw': HeartbeatRawSchema,
  'heartbeat.tick': HeartbeatTickSchema,
  'heartbeat.status': HeartbeatStatusSchema,
} as const;

/** A stored candle on the wire: times in ms, values as decimal strings. */
export type Candle = z.infer<typeof CandleSchema>;
export type HeartbeatStatus = z.infer<typeof HeartbeatStatusSchema>;
export type HeartbeatSignal = z.infer<typeof HeartbeatSignalSchema>;
export type HeartbeatRaw = z.infer<typeof HeartbeatRawSchema>;
export type HeartbeatTick = z.infer<typeof HeartbeatTickSchema>;
export type WatchedSymbolInfo = z.infer<typeof WatchedSymbol>;
export type CandlesQuery = z.output<typeof CandlesQueryInput>;
export type HeartbeatEventName = keyof typeof heartbeatEvents;
export type HeartbeatEventData<E extends HeartbeatEventName> = z.input<(typeof heartbeatEvents)[E]>;
