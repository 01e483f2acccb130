import { z } from 'zod';
import { DecimalString, Id, method, NoInput } from './define';

/** A core sentence's parameters (see shared/i18n): values, or nested `{key, params}` sentences. */
const TextParams = z.record(z.string(), z.unknown());

/** Webhooks: the TradingView listener, its journal, the webhook book and the tunnel. */

export const WebhookStatus = z.enum(['received', 'processing', 'processed', 'rejected', 'error', 'duplicate']);
export const WebhookAction = z.enum(['PING', 'BuyMarket', 'SellMarket', 'BuyLimit', 'SellLimit', 'MAJ']);

const Counters = z.object({
  notFound: z.number().int(),
  methodNotAllowed: z.number().int(),
  tooLarge: z.number().int(),
  malformed: z.number().int(),
  aborted: z.number().int(),
  handled: z.number().int(),
});

export const ListenerState = z.object({
  running: z.boolean(),
  host: z.string(),
  port: z.number().int(),
  /** The local address of this profile's webhook: http://host:port/webhook/<token>. */
  url: z.string(),
  /** The tunnel's public origin, when it is up. */
  publicUrl: z.string().nullable().optional(),
  /** The URL to paste into TradingView (public origin + /webhook/<token>). */
  publicWebhookUrl: z.string().nullable(),
  /** Only TradingView's published addresses may call (X-Forwarded-For honoured only from the local tunnel or a trusted local proxy). */
  restrictToTradingView: z.boolean(),
  /** `error` in English; `errorKey` / `errorParams` the same by catalogue key (the page words it). */
  tunnel: z.object({ running: z.boolean(), publicUrl: z.string().nullable(), error: z.string().nullable(), errorKey: z.string().nullable().optional(), errorParams: TextParams.nullable().optional(), hasToken: z.boolean() }),
  /** Requests counted but not journaled (no profile named, too large, malformed, aborted) since the app started. */
  counters: Counters,
});

export const WebhookRequest = z.object({
  id: z.string(),
  receivedAt: z.string(),
  senderIp: z.string().nullable(),
  alertId: z.string().nullable(),
  action: z.string().nullable(),
  symbol: z.string().nullable(),
  market: z.string().nullable(),
  brokerId: z.string().nullable(),
  brokerName: z.string().nullable(),
  sender: z.string().nullable(),
  httpStatus: z.number().int(),
  status: WebhookStatus,
  /** Why it was refused, or what it did, in English (scripts read it)… */
  reason: z.string().nullable(),
  /** …and the same by catalogue key and parameters (null on rows journaled before keys: show `reason`). */
  reasonKey: z.string().nullable().optional(),
  reasonParams: TextParams.nullable().optional(),
  /** The payload as received, its secret replaced by •••. */
  payload: z.record(z.string(), z.unknown()).nullable(),
  raw: z.string().nullable(),
  processedAt: z.string().nullable(),
  /** How the alert's stop-loss / take-profit are enforced: native orders at the exchange, or watched by the app (null: none). */
  protection: z.enum(['native', 'watched']).nullable().optional(),
  order: z
    .object({ id: z.string(), clientOrderId: z.string().nullable(), status: z.string().nullable(), side: z.string().nullable(), type: z.string().nullable(), amount: DecimalString.nullable(), filled: DecimalString.nullable(), averagePrice: DecimalString.nullable(), error: z.string().nullable() })
    .nullable(),
});

export const WebhookStats = z.object({
  period: z.enum(['24h', '7d', '30d']),
  since: z.string(),
  received: z.number().int(),
  processed: z.number().int(),
  refused: z.number().int(),
  errors: z.number().int(),
  duplicates: z.number().int(),
  pending: z.number().int(),
});

export const WebhookPosition = z.object({
  id: z.string(),
  brokerId: z.string(),
  brokerName: z.string().nullable(),
  exchange: z.string(),
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  sandbox: z.boolean(),
  quantity: DecimalString,
  averageEntry: DecimalString.nullable(),
  realisedPnl: DecimalString,
  unrealisedPnl: DecimalString.nullable(),
  price: DecimalString.nullable(),
  stopLoss: DecimalString.nullable(),
  takeProfit: DecimalString.nullable(),
  /** How SL/TP are enforced: `watched` = the app watches the price and sells at market. */
  protection: z.enum(['native', 'watched']),
  exitReason: z.string().nullable(),
  exitReasonKey: z.string().nullable().optional(),
  exitReasonParams: TextParams.nullable().optional(),
  fills: z.number().int(),
  updatedAt: z.string(),
});

export const WebhookSender = z.object({
  name: z.string(),
  lastPingAt: z.string(),
  lastIp: z.string().nullable(),
  expectMinutes: z.number().int().nullable(),
  pings: z.number().int(),
  dueAt: z.string().nullable(),
  /** No PING within `expectMinutes`. */
  missed: z.boolean(),
});

const Filters = z
  .object({
    status: z.array(WebhookStatus).max(6).optional(),
    action: WebhookAction.optional(),
    symbol: z.string().trim().min(1).max(60).optional(),
    brokerId: Id.optional(),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

export const webhookMethods = {
  'webhooks.listener.get': method({ input: NoInput, output: ListenerState, auth: 'profile', description: "The webhook listener's state, this profile's local URL and the tunnel's public URL." }),
  'webhooks.listener.start': method({ input: NoInput, output: ListenerState, auth: 'profile', description: 'Start the webhook listener (ARISTOBOT_WEBHOOK_HOST:ARISTOBOT_WEBHOOK_PORT); remembered across restarts.' }),
  'webhooks.listener.stop': method({ input: NoInput, output: ListenerState, auth: 'profile', description: 'Stop the webhook listener (and the tunnel); remembered across restarts.' }),
  'webhooks.listener.restrict': method({ input: z.object({ restrictToTradingView: z.boolean() }).strict(), output: ListenerState, auth: 'profile', description: "Accept calls from TradingView's published addresses only (on/off)." }),
  'webhooks.test': method({
    input: NoInput,
    output: z.object({ httpStatus: z.number().int(), status: z.string(), requestId: z.string().nullable() }),
    auth: 'profile',
    description: 'Post a PING through the listener itself, as TradingView would.',
  }),
  'webhooks.secret.get': method({ input: NoInput, output: z.object({ secret: z.string(), masked: z.string() }), auth: 'profile', description: "The profile's webhook secret (to copy into TradingView) and its masked form." }),
  'webhooks.secret.rotate': method({ input: NoInput, output: z.object({ secret: z.string() }), auth: 'profile', description: 'Regenerate the webhook secret: alerts with the old one are refused from now on.' }),
  'webhooks.list': method({ input: z.object({ filters: Filters.optional() }).strict().optional(), output: z.array(WebhookRequest), auth: 'profile', description: 'The journal of requests received (accepted or refused), newest first, with the order each produced.' }),
  'webhooks.stats': method({ input: z.object({ period: z.enum(['24h', '7d', '30d']) }).strict(), output: WebhookStats, auth: 'profile', description: 'Counters of the last 24 h / 7 d / 30 d: received, processed, refused, errors.' }),
  'webhooks.templates': method({
    input: z.object({ brokerId: Id.optional() }).strict().optional(),
    output: z.object({ broker: z.string().nullable(), templates: z.array(z.object({ action: WebhookAction, title: z.string(), message: z.string() })) }),
    auth: 'profile',
    description: "Alert messages to paste into TradingView, one per action, with this profile's secret and the broker; TradingView placeholders kept.",
  }),
  'webhooks.positions': method({ input: NoInput, output: z.array(WebhookPosition), auth: 'profile', description: 'Positions opened by webhooks (kept apart from manual ones) with SL/TP and unrealised P&L.' }),
  'webhooks.senders': method({ input: NoInput, output: z.array(WebhookSender), auth: 'profile', description: 'Senders that PING, and whether one missed its expected PING.' }),
  'webhooks.tunnel.start': method({
    input: z.object({ authtoken: z.string().trim().min(10, 'the ngrok authtoken is longer').max(200).regex(/^[A-Za-z0-9_-]+$/, 'an ngrok authtoken has letters, digits, _ and - only').optional() }).strict().optional(),
    output: ListenerState,
    auth: 'profile',
    description: 'Start the ngrok tunnel to the listener (the authtoken, when given, is kept in the SecretStore).',
  }),
  'webhooks.tunnel.stop': method({ input: NoInput, output: ListenerState, auth: 'profile', description: 'Stop the tunnel (the listener keeps running).' }),
} as const;

export const webhookEvents = {
  'webhooks.received': z.object({ requestId: z.string(), status: WebhookStatus, action: z.string().nullable(), symbol: z.string().nullable(), httpStatus: z.number().int(), receivedAt: z.string() }),
  'webhooks.updated': z.object({ kind: z.enum(['request', 'position', 'senders']), id: z.string().nullable() }),
} as const;
