import { z } from 'zod';
import { DecimalString, Id, method } from './define';
import { MarketRow } from './exchanges';

/** Manual trading, the order journal every source shares (manual, strategy, webhook), positions. */

const MarketSymbol = z.string().trim().min(3, 'symbol is required, e.g. "BTC/USDT"').max(40).regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/, 'a symbol looks like BASE/QUOTE, e.g. "BTC/USDT"');
/** A positive decimal string (amounts, prices, costs). */
const PositiveDecimal = DecimalString.refine((s) => !/^-/.test(s), 'must not be negative');
/** Exchanges accept letters, digits and . _ : / - (Binance: at most 36). */
export const ClientOrderId = z.string().regex(/^[A-Za-z0-9._:/-]{1,36}$/, 'a client order id is 1–36 characters: letters, digits and . _ : / -');

export const OrderSide = z.enum(['buy', 'sell']);
export const OrderType = z.enum(['market', 'limit']);
/** `external`: found at the exchange by the sync, placed outside the app. */
export const OrderSource = z.enum(['manual', 'strategy', 'webhook', 'external']);
export const OrderStatus = z.enum(['intent', 'sent', 'open', 'filled', 'partially_filled', 'cancelled', 'rejected', 'unknown']);

/** One row of the order journal. */
export const Order = z.object({
  id: z.string(),
  brokerId: z.string().nullable(),
  exchange: z.string(),
  source: OrderSource,
  sourceRef: z.string().nullable(),
  symbol: z.string(),
  side: OrderSide,
  type: OrderType,
  requestedAmount: DecimalString.nullable(),
  requestedCost: DecimalString.nullable(),
  requestedPrice: DecimalString.nullable(),
  /** As sent: truncated to the amount step. */
  amount: DecimalString.nullable(),
  /** As sent: on the price tick (limit orders). */
  price: DecimalString.nullable(),
  clientOrderId: z.string(),
  exchangeOrderId: z.string().nullable(),
  status: OrderStatus,
  filled: DecimalString,
  remaining: DecimalString.nullable(),
  averagePrice: DecimalString.nullable(),
  /** Filled cost in the quote currency. */
  cost: DecimalString.nullable(),
  /** The fee when the order paid it in one currency; null when none or several (see `fees`). */
  fee: z.object({ cost: DecimalString, currency: z.string() }).nullable(),
  /** Every fee currency the order paid (e.g. BNB, then USDT once the BNB ran out), summed per currency. */
  fees: z.array(z.object({ cost: DecimalString, currency: z.string() })),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  /** errorMessage by catalogue key and parameters (worded in the profile's language); null on older rows and on the exchange's own words. */
  errorKey: z.string().nullable().optional(),
  errorParams: z.record(z.string(), z.unknown()).nullable().optional(),
  replacesOrderId: z.string().nullable(),
  /** Placed on the exchange's testnet (sandbox), not live. Looked up, cancelled and modified there. */
  sandbox: z.boolean(),
  /** The account the order went to: live, the exchange's testnet, or a paper broker. */
  mode: z.enum(['live', 'testnet', 'paper']),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
  /** A protective (conditional) order: the price that triggers it at the exchange. */
  triggerPrice: DecimalString.nullable().optional(),
  /** Which leg of a position's native protection the order is. */
  protects: z.enum(['stop_loss', 'take_profit']).nullable().optional(),
  /** The protective pair (stop-loss + take-profit) the order belongs to. */
  ocoRef: z.string().nullable().optional(),
});

export const Fill = z.object({
  id: z.string(),
  orderId: z.string().nullable(),
  symbol: z.string(),
  side: OrderSide,
  tradeId: z.string(),
  price: DecimalString,
  amount: DecimalString,
  cost: DecimalString,
  fee: z.object({ cost: DecimalString, currency: z.string() }).nullable(),
  takerOrMaker: z.string().nullable(),
  executedAt: z.string(),
});

export const Position = z.object({
  brokerId: z.string(),
  exchange: z.string(),
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  /** In the base currency, net of fees paid in it; never negative (coins held before the app and sold leave it flat). */
  quantity: DecimalString,
  averageEntry: DecimalString.nullable(),
  realisedPnl: DecimalString,
  /** quantity × (price − average entry); null when no price could be fetched. */
  unrealisedPnl: DecimalString.nullable(),
  price: DecimalString.nullable(),
  fills: z.number().int(),
  /** A testnet (sandbox) position; the list shows the broker's current mode only. */
  sandbox: z.boolean(),
  updatedAt: z.string(),
});

/** A core sentence's catalogue parameters (a parameter may itself be a `{key, params}` message). */
const TextParams = z.record(z.string(), z.unknown());

export const Capabilities = z.object({
  exchange: z.string(),
  name: z.string(),
  /** CCXT's `has` for what the page uses (true, false, or 'emulated' counted as true). */
  has: z.object({
    createMarketOrder: z.boolean(),
    createLimitOrder: z.boolean(),
    editOrder: z.boolean(),
    cancelOrder: z.boolean(),
    createStopOrder: z.boolean(),
    fetchOHLCV: z.boolean(),
    fetchOpenOrders: z.boolean(),
    fetchClosedOrders: z.boolean(),
    fetchMyTrades: z.boolean(),
    fetchTicker: z.boolean(),
    fetchBalance: z.boolean(),
  }),
  /** How Modify works here, for a person. */
  modify: z.enum(['edit', 'cancel_replace']),
  modifyNote: z.string(),
  /** The note by key and parameters (coreTrading.modify.*), worded in the profile's language. */
  modifyNoteKey: z.string().nullable().optional(),
  modifyNoteParams: TextParams.nullable().optional(),
});

export const PortfolioAsset = z.object({
  asset: z.string(),
  free: DecimalString,
  used: DecimalString,
  total: DecimalString,
  /** Price of one unit in the valuation currency; null when no market prices it. */
  price: DecimalString.nullable(),
  value: DecimalString.nullable(),
});
export const Portfolio = z.object({
  brokerId: z.string(),
  exchange: z.string(),
  valuationCurrency: z.string(),
  assets: z.array(PortfolioAsset),
  /** Sum of the priced assets' values. */
  total: DecimalString,
  /** Assets held that no market could price (not in the total). */
  unpriced: z.array(z.string()),
  fetchedAt: z.string(),
});

export const Ticker = z.object({
  symbol: z.string(),
  last: DecimalString.nullable(),
  bid: DecimalString.nullable(),
  ask: DecimalString.nullable(),
  timestamp: z.string().nullable(),
});

/** `message` is English (scripts); `key` and `params` word it in the profile's language (coreTrading.problem.*). */
export const OrderProblem = z.object({ field: z.string(), code: z.string(), message: z.string(), key: z.string().nullable().optional(), params: TextParams.nullable().optional() });
export const OrderCheckItem = z.object({ name: z.string(), ok: z.boolean(), message: z.string(), key: z.string().nullable().optional(), params: TextParams.nullable().optional() });

/** Input of orders.validate and orders.place: an amount (base) or a cost (quote), not both. */
const OrderRequestShape = z.object({
  brokerId: Id,
  symbol: MarketSymbol,
  side: OrderSide,
  type: OrderType,
  amount: PositiveDecimal.optional(),
  cost: PositiveDecimal.optional(),
  price: PositiveDecimal.optional(),
});
const oneOfAmountCost = (v: { amount?: string; cost?: string }) => (v.amount === undefined) !== (v.cost === undefined);
const oneOfMessage = { message: 'give either amount (in the base currency) or cost (in the quote currency), not both', path: ['amount'] };

export const OrderRequest = OrderRequestShape.strict().refine(oneOfAmountCost, oneOfMessage);

export const Validation = z.object({
  ok: z.boolean(),
  symbol: z.string(),
  side: OrderSide,
  type: OrderType,
  base: z.string().nullable(),
  quote: z.string().nullable(),
  /** What would be sent: amount truncated to the step, price on the tick. */
  amount: DecimalString.nullable(),
  price: DecimalString.nullable(),
  /** The price the cost is computed at: the limit price, or the ticker's last price for a market order. */
  referencePrice: DecimalString.nullable(),
  /** amount × reference price, in the quote currency (estimated for a market order). */
  cost: DecimalString.nullable(),
  problems: z.array(OrderProblem),
  checks: z.array(OrderCheckItem),
  balance: z.object({ asset: z.string(), free: DecimalString, required: DecimalString }).nullable(),
  market: MarketRow.nullable(),
  /** Until when this validation holds (then validate again); null for a quick check. */
  validUntil: z.string().nullable(),
});

const JournalFilters = z
  .object({
    brokerId: Id.optional(),
    source: OrderSource.optional(),
    status: z.array(OrderStatus).max(8).optional(),
    symbol: MarketSymbol.optional(),
    clientOrderId: ClientOrderId.optional(),
    /** Only testnet (true) or only live (false) orders; both when absent. */
    sandbox: z.boolean().optional(),
    since: z.string().datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

export const tradingMethods = {
  'trading.capabilities': method({ input: z.object({ brokerId: Id }).strict(), output: Capabilities, auth: 'profile', description: "What the broker's exchange supports (from CCXT's `has`) and how Modify works there." }),
  'trading.markets': method({
    input: z.object({ brokerId: Id, quote: z.string().max(20).optional(), search: z.string().max(40).optional(), limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    output: z.object({ total: z.number().int(), quotes: z.array(z.string()), markets: z.array(MarketRow) }),
    auth: 'profile',
    description: "The broker's markets (as its exchange reports them now), filtered by quote and search.",
  }),
  'portfolio.get': method({ input: z.object({ brokerId: Id }).strict(), output: Portfolio, auth: 'profile', description: 'Every asset of the broker with free / used / total and its value in USDT, and the total value.' }),
  'tickers.get': method({ input: z.object({ brokerId: Id, symbol: MarketSymbol }).strict(), output: Ticker, auth: 'profile', description: 'The current ticker of a market.' }),
  'orders.validate': method({
    input: OrderRequestShape.extend({ quick: z.boolean().default(false) }).strict().refine(oneOfAmountCost, oneOfMessage),
    output: Validation,
    auth: 'profile',
    description: 'Round and check an order (precision, limits, and — unless `quick` — the balance) without sending it.',
  }),
  'orders.place': method({
    input: OrderRequestShape.extend({ clientOrderId: ClientOrderId.optional() }).strict().refine(oneOfAmountCost, oneOfMessage),
    output: Order,
    auth: 'profile',
    description:
      'Validate, journal and send an order (source manual), in the broker\'s current mode (live or testnet). A refusal is journaled and answered as an error whose details hold the journal row. `clientOrderId` makes it idempotent: the same id again never places a second order — it answers the journaled attempt (an error when that attempt was refused).',
  }),
  'orders.cancel': method({ input: z.object({ orderId: Id }).strict(), output: Order, auth: 'profile', description: 'Cancel an open order (at the exchange, live or testnet, where it was placed).' }),
  'orders.modify': method({
    input: z.object({ orderId: Id, amount: PositiveDecimal.optional(), price: PositiveDecimal.optional() }).strict().refine((v) => v.amount !== undefined || v.price !== undefined, { message: 'give a new amount or a new price', path: ['amount'] }),
    output: z.object({ order: Order, replaced: Order, method: z.enum(['edit', 'cancel_replace']) }),
    auth: 'profile',
    description:
      "Change an open limit order's amount or price: the exchange's edit where it has one, otherwise cancel and place a new order. The new values are validated (all but the balance) before anything changes. `amount` is the new order's amount; without it the new order is what is left at the exchange's fill count at the moment of the change, so the total committed stays the order's amount.",
  }),
  'orders.open': method({
    input: z.object({ brokerId: Id }).strict(),
    output: z.array(Order),
    auth: 'profile',
    description: "The broker's open orders in its current mode (live or testnet), refreshed from the exchange (orders placed elsewhere included).",
  }),
  'orders.history': method({
    input: z.object({ brokerId: Id, days: z.number().int().min(1).max(365).default(30) }).strict(),
    output: z.array(Order),
    auth: 'profile',
    description: "Closed orders (filled or cancelled) of the last `days` days in the broker's current mode, newest first by when the exchange closed them.",
  }),
  'orders.journal': method({
    input: z.object({ filters: JournalFilters.optional() }).strict().optional(),
    output: z.array(Order),
    auth: 'profile',
    description: 'The order journal: every attempt (refused ones included), newest first.',
  }),
  'orders.fills': method({ input: z.object({ orderId: Id }).strict(), output: z.array(Fill), auth: 'profile', description: 'The fills of an order.' }),
  'positions.list': method({ input: z.object({ brokerId: Id.optional() }).strict().optional(), output: z.array(Position), auth: 'profile', description: "Positions per broker and symbol in each broker's current mode (live or testnet), with unrealised P&L at the current price." }),
} as const;

export const tradingEvents = {
  'orders.updated': z.object({ brokerId: z.string().nullable(), orderIds: z.array(z.string()), reason: z.string() }),
  'positions.updated': z.object({ brokerId: z.string(), symbols: z.array(z.string()) }),
} as const;
