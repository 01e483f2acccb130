import { z } from 'zod';
import { DecimalString, Id, method, NoInput, Ok } from './define';

export const CredentialsInput = z.record(z.string().regex(/^[A-Za-z]{2,20}$/), z.string().max(4096)).refine((c) => Object.keys(c).length <= 10, 'too many credential fields');
const ExchangeId = z.string().min(1, 'exchange is required').max(40).regex(/^[a-z0-9_]+$/, 'exchange ids are lowercase, e.g. "binance"');
const BrokerName = z.string().trim().min(1, 'name is required').max(60, 'name is at most 60 characters');

export const ExchangeInfo = z.object({ id: z.string(), name: z.string(), requiredCredentials: z.array(z.string()), hasSandbox: z.boolean() });
export const Broker = z.object({
  id: z.string(),
  name: z.string(),
  exchange: z.string(),
  testnet: z.boolean(),
  /** A paper broker: simulated balances and orders on the exchange's live prices (no keys). */
  paper: z.boolean(),
  /** A paper broker's slippage on market orders, as a fraction ("0.001" = 0.1 %). */
  paperSlippage: DecimalString,
  isDefault: z.boolean(),
  active: z.boolean(),
  /** Masked hints only ("••••1a2b"); the keys never leave the core. */
  credentials: z.record(z.string(), z.string()),
  createdAt: z.string(),
});
/** A paper account's starting balances: asset → non-negative decimal string (checked by the core). */
export const PaperBalances = z.record(z.string().max(20), z.string().max(40));
export const Balance = z.object({ asset: z.string(), free: DecimalString, used: DecimalString, total: DecimalString });
export const MarketRow = z.object({
  exchange: z.string(),
  symbol: z.string(),
  exchangeSymbol: z.string(),
  base: z.string(),
  quote: z.string(),
  type: z.string(),
  active: z.boolean(),
  precision: z.object({ price: DecimalString.nullable(), amount: DecimalString.nullable() }),
  limits: z.object({
    amount: z.object({ min: DecimalString.nullable(), max: DecimalString.nullable() }),
    cost: z.object({ min: DecimalString.nullable(), max: DecimalString.nullable() }),
    price: z.object({ min: DecimalString.nullable(), max: DecimalString.nullable() }),
  }),
  fees: z.object({ maker: DecimalString.nullable(), taker: DecimalString.nullable() }),
});
export const MarketsProgress = z.object({
  exchange: z.string(),
  brokerId: z.string(),
  phase: z.enum(['fetching', 'storing', 'done', 'failed', 'cancelled']),
  percent: z.number().min(0).max(100),
  count: z.number().int().nullable(),
  message: z.string().nullable(),
});
export const MarketsSummary = z.object({
  exchanges: z.array(z.object({ exchange: z.string(), count: z.number().int(), loadedAt: z.string() })),
  loading: z.array(MarketsProgress),
});

export const exchangeMethods = {
  'exchanges.list': method({ input: NoInput, output: z.array(ExchangeInfo), auth: 'none', description: 'Every exchange CCXT supports, with its required credential fields and whether it has a testnet.' }),
  'brokers.list': method({ input: NoInput, output: z.array(Broker), auth: 'profile', description: "The profile's brokers (keys masked)." }),
  'brokers.create': method({
    input: z
      .object({
        name: BrokerName,
        exchange: ExchangeId,
        credentials: CredentialsInput.optional(),
        testnet: z.boolean().default(false),
        paper: z.literal(true).optional(),
        balances: PaperBalances.optional(),
        slippage: z.string().max(40).optional(),
      })
      .strict(),
    output: Broker,
    auth: 'profile',
    description: 'Add a broker; its keys go to the SecretStore only. With `paper: true`: a paper broker (no keys) with starting `balances` (asset → amount) and an optional market-order `slippage` fraction.',
  }),
  'brokers.paper.reset': method({
    input: z.object({ id: Id, balances: PaperBalances }).strict(),
    output: z.object({ broker: Broker, balances: z.array(Balance) }),
    auth: 'profile',
    description: "A paper broker starts again from the given balances (its open paper orders are cancelled; the journal keeps its history).",
  }),
  'brokers.update': method({
    input: z.object({ id: Id, name: BrokerName.optional(), credentials: CredentialsInput.optional(), testnet: z.boolean().optional(), active: z.boolean().optional() }).strict(),
    output: Broker,
    auth: 'profile',
    description: "Rename a broker, replace its keys, switch testnet or active.",
  }),
  'brokers.delete': method({ input: z.object({ id: Id }).strict(), output: Ok, auth: 'profile', description: 'Delete a broker and its keys.' }),
  'brokers.test': method({
    input: z.object({ exchange: ExchangeId, credentials: CredentialsInput, testnet: z.boolean().default(false) }).strict(),
    output: z.object({ ok: z.literal(true), balances: z.array(Balance), latencyMs: z.number() }),
    auth: 'profile',
    description: "Connect with typed keys (nothing saved); the account's non-zero balances on success.",
  }),
  'brokers.testSaved': method({ input: z.object({ id: Id }).strict(), output: z.object({ ok: z.literal(true), balances: z.array(Balance), latencyMs: z.number() }), auth: 'profile', description: 'Test a saved broker.' }),
  'brokers.setDefault': method({ input: z.object({ id: Id }).strict(), output: Broker, auth: 'profile', description: 'Make this broker the default.' }),
  'markets.update': method({ input: z.object({ brokerId: Id }).strict(), output: z.object({ started: z.boolean(), exchange: z.string() }), auth: 'profile', description: 'Reload every market of the broker’s exchange in the background (progress: markets.progress).' }),
  'markets.cancel': method({ input: z.object({ exchange: ExchangeId }).strict(), output: z.object({ cancelled: z.boolean() }), auth: 'profile', description: 'Cancel a running markets update; the previous markets stay.' }),
  'markets.list': method({
    input: z.object({ exchange: ExchangeId, quote: z.string().max(20).optional(), search: z.string().max(40).optional(), limit: z.number().int().min(1).max(10000).default(500), offset: z.number().int().min(0).default(0) }).strict(),
    output: z.object({ total: z.number().int(), markets: z.array(MarketRow) }),
    auth: 'none',
    description: 'Stored markets of an exchange with precision and limits, filtered by quote and search.',
  }),
  'markets.summary': method({ input: NoInput, output: MarketsSummary, auth: 'none', description: 'How many markets each exchange has stored, and updates in progress.' }),
  'app.testnet.get': method({ input: NoInput, output: z.object({ enabled: z.boolean() }), auth: 'none', description: "The logged-in profile's testnet mode (false when nobody is logged in)." }),
  'app.testnet.set': method({ input: z.object({ enabled: z.boolean() }).strict(), output: z.object({ enabled: z.boolean() }), auth: 'profile', description: 'Switch the profile’s testnet mode: every broker of this profile then trades on its exchange’s sandbox. Other profiles are not affected.' }),
} as const;

export const exchangeEvents = {
  'markets.progress': MarketsProgress,
  'brokers.changed': z.object({ reason: z.string() }),
  'app.testnet.changed': z.object({ enabled: z.boolean() }),
} as const;
