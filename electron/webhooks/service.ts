import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Exchange } from 'ccxt';
import Decimal from 'decimal.js';
import { AppError, externalError, isAppError } from '../../shared/errors';
import type { Text } from '../../shared/i18n';
import type { Database } from '../db/database';
import type { EventBus } from '../events';
import type { Broker, BrokerService } from '../exchanges/brokers';
import type { ExchangeGateway } from '../exchanges/gateway';
import type { Logger } from '../log';
import type { SecretStore } from '../secrets/store';
import { newSecretRef } from '../secrets/store';
import { sandboxOf } from '../trading/mode';
import type { OrderService } from '../trading/orders';
import { checkLevels } from '../trading/protection';
import { JournalBatcher } from './batch';
import { bookFromFills } from './book';
import { WebhookListener, type AlertAnswer, type IncomingAlert } from './listener';
import {
  acceptedContentType,
  AlertError,
  marketKey,
  nested,
  parseAlert,
  reason,
  parseBody,
  scrubPayload,
  scrubRaw,
  secretOf,
  senderName,
  tickerKey,
  webhookClientOrderId,
  type Action,
  type Alert,
  type Reason,
} from './payload';
import * as store from './store';
import { Tunnel, type Forward, type TunnelState } from './tunnel';

/**
 * Webhooks: TradingView alerts received by the local listener, journaled, answered at once, then
 * processed through the order service (source `webhook`).
 *
 * A request's life: `received` (journaled, answered 202) → `processing` → `processed` | `rejected` |
 * `error`, with the reason. Refused requests (wrong secret, bad JSON, unknown action, broker or
 * symbol, bad numbers) are journaled `rejected` with the reason and answered 4xx; the same alert `id`
 * again is journaled `duplicate` and answered 200. The alert `id` names the order: its client order
 * id is derived from the profile and the id, so a request processed twice (a restart while it was
 * being processed) never places a second order.
 *
 * The webhook book: positions opened by webhooks are computed (FIFO) from the fills of the webhook's
 * own orders, per broker, mode and symbol; a sell's `percent` sizes from it and a sell never exceeds
 * it. Stop-loss and take-profit are native orders at the exchange where CCXT says it can hold them
 * (the order service's `protect`: an OCO list on Binance spot, for the webhook position's quantity;
 * the other leg is cancelled when one fills), otherwise watched by the app on live prices (the
 * ticker, every `watchMs`) and executed at market; which one is recorded on the position and the
 * request (`protection`). MAJ moves them (native: the pair is cancelled and placed again); a
 * webhook's sell cancels the pair first (it holds the coins) and protects what is left.
 */

/** TradingView's published webhook source addresses (TradingView help: "About webhooks"). */
export const TRADINGVIEW_IPS: readonly string[] = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'];

export interface WebhookConfig {
  host: string;
  port: number;
  /** How often stop-loss / take-profit, open webhook orders and missed pings are checked. */
  watchMs: number;
  /** Honour X-Forwarded-For from loopback connections even without the built-in tunnel (a local reverse proxy). */
  trustProxy: boolean;
}

export interface WebhookServiceOptions {
  db: Database;
  brokers: Pick<BrokerService, 'list' | 'exchangeFor'>;
  gateway: Pick<ExchangeGateway, 'run'>;
  orders: Pick<OrderService, 'place' | 'ticker' | 'sync' | 'protect' | 'settleProtection' | 'cancelProtection'>;
  secrets: { store: SecretStore | null; message: string; text?: Text };
  bus: EventBus;
  log: Logger;
  config: WebhookConfig;
  now?: () => number;
  forward?: Forward;
  tunnelTimeoutMs?: number;
}

interface Settings {
  listener: boolean;
  tunnel: boolean;
  restrictToTradingView: boolean;
}

export interface ListenerState {
  running: boolean;
  host: string;
  port: number;
  url: string;
  publicUrl: string | null;
  publicWebhookUrl: string | null;
  restrictToTradingView: boolean;
  tunnel: TunnelState;
  counters: WebhookListener['counters'];
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
/** A journal sentence as the row's three columns: the English text, its key and its parameters. */
const reasonCols = (r: Reason) => ({ reason: r.text, reasonKey: r.key, reasonParams: r.params });
/** An error as a journal sentence: an AppError keeps its own key; anything else is external text. */
const errorReason = (e: AppError): Reason => ({ text: e.message, key: e.key, params: e.params });
/** Several sentences as one (`a; b; c`), each worded in the reader's language. */
function joined(list: Reason[]): Reason {
  if (list.length === 1) return list[0]!;
  return reason('coreWebhooks.levels.list', { first: nested(list[0]!), rest: nested(joined(list.slice(1))) });
}
/** An order status in words (`open`, `filled`…); an unknown one as it is. */
const orderStatus = (status: string) => (status in ORDER_STATUS ? { key: `coreWebhooks.orderStatus.${status}`, params: {} } : status);
const ORDER_STATUS: Record<string, true> = { intent: true, sent: true, unknown: true, open: true, partially_filled: true, filled: true, cancelled: true, rejected: true };
/**
 * The stop-loss / take-profit problems of `checkLevels` (electron/trading/protection.ts) as journal
 * sentences. In a webhook the levels are already positive and ordered (parseAlert), so the
 * problems left are against the price; anything else keeps the checker's own words.
 */
function levelReasons(bad: { path: string; message: string }[], sl: Decimal | null | undefined, tp: Decimal | null | undefined, price: Decimal | null): Reason {
  return joined(
    bad.map((b) => {
      if (b.path === 'stopLoss' && sl && tp && !sl.lt(tp)) return reason('coreWebhooks.levels.slAboveTp', { sl: sl.toFixed(), tp: tp.toFixed() });
      if (b.path === 'stopLoss' && sl && price && !sl.lt(price)) return reason('coreWebhooks.levels.slAbovePrice', { sl: sl.toFixed(), price: price.toFixed() });
      if (b.path === 'takeProfit' && tp && price && !tp.gt(price)) return reason('coreWebhooks.levels.tpBelowPrice', { tp: tp.toFixed(), price: price.toFixed() });
      return reason('errors.external', { reason: b.message });
    }),
  );
}
const REFUSAL_CODES = new Set(['invalid_order', 'insufficient_funds', 'invalid_input', 'exchange_permission', 'exchange_auth', 'not_found']);

export class WebhookService {
  private readonly db: Database;
  private readonly log: Logger;
  private readonly now: () => number;
  readonly listener: WebhookListener;
  readonly tunnel: Tunnel;
  private settings: Settings = { listener: false, tunnel: false, restrictToTradingView: false };
  /** sha256(token) → profile id (all profiles; the listener must know the profile before it reads the body). */
  private routes = new Map<string, string>();
  private readonly secretHashes = new Map<string, Buffer>();
  private readonly brokerCache = new Map<string, { at: number; list: Broker[] }>();
  /** exchange id → (ticker key → symbols), from the markets the exchange instance loaded. */
  private readonly marketKeys = new Map<string, Map<string, { spot?: string; swap?: string }>>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private missed = new Map<string, string>();
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** Group commit of the journal (receipts and status changes). */
  private readonly journal: JournalBatcher;

  constructor(private readonly opts: WebhookServiceOptions) {
    this.db = opts.db;
    this.journal = new JournalBatcher(opts.db);
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.listener = new WebhookListener({
      host: opts.config.host,
      port: opts.config.port,
      log: opts.log,
      handle: (a) => this.receive(a),
      knows: (token) => this.routes.has(sha(token)),
      trustForwarded: () => opts.config.trustProxy || this.tunnelRunning,
    });
    this.tunnel = new Tunnel({ secrets: () => opts.secrets.store, secretsMessage: () => opts.secrets.text ?? opts.secrets.message, log: opts.log, forward: opts.forward, timeoutMs: opts.tunnelTimeoutMs });
  }

  private tunnelRunning = false;

  /** Group-commit batches and the requests they carried (the load bench prints them). */
  get journalCounters(): { batches: number; jobs: number } {
    return { ...this.journal.counters };
  }

  // -------------------------------------------------------------------------------------------
  // Lifetime

  async start(): Promise<void> {
    this.stopped = false;
    const { rows } = await this.db.query<{ value: Partial<Settings> }>("SELECT value FROM app_settings WHERE key = 'webhooks'");
    this.settings = { ...this.settings, ...(rows[0]?.value ?? {}) };
    await this.loadRoutes();
    this.unsubscribe = this.opts.bus.on((e) => {
      if (e.event === 'orders.updated' && e.profileId) this.onOrdersUpdated(e.profileId, (e.data as { orderIds: string[] }).orderIds);
    });
    if (this.settings.listener) {
      await this.listener.start().catch((e: Error) => this.log.error({ err: e.message }, 'the webhook listener did not start'));
      if (this.settings.tunnel && this.listener.running) {
        this.startTunnel().catch((e: Error) => this.log.warn({ err: e.message }, 'the tunnel did not restart'));
      }
    }
    await this.resume();
    if (this.opts.config.watchMs > 0) {
      this.timer = setInterval(() => this.kick(), this.opts.config.watchMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    await this.tunnel.stop();
    this.tunnelRunning = false;
    await this.listener.stop();
    await Promise.all([...this.running, this.ticking].map((p) => p?.catch(() => undefined)));
  }

  private async saveSettings(patch: Partial<Settings>): Promise<void> {
    this.settings = { ...this.settings, ...patch };
    await this.db.query(
      "INSERT INTO app_settings (key, value) VALUES ('webhooks', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
      [JSON.stringify(this.settings)],
    );
  }

  private async loadRoutes(): Promise<void> {
    const { rows } = await this.db.query<{ token_hash: string; profile_id: string }>('SELECT token_hash, profile_id FROM webhook_routes');
    this.routes = new Map(rows.map((r) => [r.token_hash, r.profile_id]));
  }

  // -------------------------------------------------------------------------------------------
  // The profile's token and secret

  private secretStore(): SecretStore {
    const s = this.opts.secrets.store;
    if (!s) throw new AppError('secrets_unavailable', 'errors.webhooks.webhookSecretCannotKept', { reason: this.opts.secrets.text ?? this.opts.secrets.message });
    return s;
  }

  /** The profile's token and secret reference, created on first use. */
  private async endpoint(profileId: string): Promise<{ token: string; secretRef: string; secretHash: string }> {
    const found = await this.db.withProfile(profileId, (c) => c.query<{ token: string; secret_ref: string; secret_hash: string }>('SELECT token, secret_ref, secret_hash FROM webhook_settings'));
    const row = found.rows[0];
    if (row) return { token: row.token, secretRef: row.secret_ref, secretHash: row.secret_hash };
    const store = this.secretStore();
    const token = randomBytes(18).toString('base64url');
    const secret = randomBytes(24).toString('base64url');
    const ref = newSecretRef();
    await store.set(ref, secret);
    try {
      await this.db.withProfile(profileId, async (c) => {
        await c.query('INSERT INTO webhook_settings (token, secret_ref, secret_hash) VALUES ($1, $2, $3)', [token, ref, sha(secret)]);
        await c.query('INSERT INTO webhook_routes (token_hash, profile_id) VALUES ($1, $2)', [sha(token), profileId]);
      });
    } catch (e) {
      await store.delete(ref).catch(() => undefined);
      // Created meanwhile by another call: that one stands.
      const again = await this.db.withProfile(profileId, (c) => c.query<{ token: string; secret_ref: string; secret_hash: string }>('SELECT token, secret_ref, secret_hash FROM webhook_settings'));
      if (again.rows[0]) return { token: again.rows[0].token, secretRef: again.rows[0].secret_ref, secretHash: again.rows[0].secret_hash };
      throw e;
    }
    this.routes.set(sha(token), profileId);
    this.secretHashes.set(profileId, Buffer.from(sha(secret), 'hex'));
    return { token, secretRef: ref, secretHash: sha(secret) };
  }

  async secret(profileId: string): Promise<{ secret: string; masked: string; token: string }> {
    const e = await this.endpoint(profileId);
    const secret = await this.secretStore().get(e.secretRef);
    if (secret === null) throw new AppError('secrets_unavailable', 'errors.webhooks.webhookSecretMissingFrom');
    return { secret, masked: `••••${secret.slice(-4)}`, token: e.token };
  }

  async rotateSecret(profileId: string): Promise<{ secret: string }> {
    const e = await this.endpoint(profileId);
    const store = this.secretStore();
    const secret = randomBytes(24).toString('base64url');
    const ref = newSecretRef();
    await store.set(ref, secret);
    await this.db.withProfile(profileId, (c) => c.query('UPDATE webhook_settings SET secret_ref = $1, secret_hash = $2, rotated_at = now()', [ref, sha(secret)]));
    await store.delete(e.secretRef).catch(() => undefined);
    this.secretHashes.set(profileId, Buffer.from(sha(secret), 'hex'));
    this.log.info({ profile: profileId }, 'webhook secret regenerated');
    return { secret };
  }

  private async secretHash(profileId: string): Promise<Buffer | null> {
    const cached = this.secretHashes.get(profileId);
    if (cached) return cached;
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<{ secret_hash: string }>('SELECT secret_hash FROM webhook_settings'));
    if (!rows[0]) return null;
    const b = Buffer.from(rows[0].secret_hash, 'hex');
    this.secretHashes.set(profileId, b);
    return b;
  }

  // -------------------------------------------------------------------------------------------
  // Listener and tunnel

  async state(profileId: string): Promise<ListenerState> {
    const { token } = await this.endpoint(profileId);
    const port = this.listener.port ?? this.opts.config.port;
    const host = this.opts.config.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const tunnel = await this.tunnel.state();
    return {
      running: this.listener.running,
      host,
      port,
      url: `http://${shown}:${port}/webhook/${token}`,
      publicUrl: tunnel.publicUrl,
      publicWebhookUrl: tunnel.publicUrl ? `${tunnel.publicUrl.replace(/\/$/, '')}/webhook/${token}` : null,
      restrictToTradingView: this.settings.restrictToTradingView,
      tunnel,
      counters: { ...this.listener.counters },
    };
  }

  async startListener(profileId: string): Promise<ListenerState> {
    await this.endpoint(profileId);
    try {
      await this.listener.start();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const port = this.opts.config.port;
      const why = err.code === 'EADDRINUSE' ? nested(reason('coreWebhooks.listener.portInUse', { port })) : err.code === 'EACCES' ? nested(reason('coreWebhooks.listener.noPermission', { port })) : err.message;
      throw new AppError('unavailable', 'errors.webhooks.webhookListenerDidNot', { why });
    }
    await this.saveSettings({ listener: true });
    return this.state(profileId);
  }

  async stopListener(profileId: string): Promise<ListenerState> {
    await this.tunnel.stop();
    this.tunnelRunning = false;
    await this.listener.stop();
    await this.saveSettings({ listener: false, tunnel: false });
    return this.state(profileId);
  }

  private async startTunnel(authtoken?: string): Promise<void> {
    if (!this.listener.running || this.listener.port === null) throw new AppError('conflict', 'errors.webhooks.startListenerFirstTunnel');
    const host = ['0.0.0.0', '::'].includes(this.opts.config.host) ? '127.0.0.1' : this.opts.config.host;
    await this.tunnel.start(`${host.includes(':') ? `[${host}]` : host}:${this.listener.port}`, authtoken);
    this.tunnelRunning = true;
  }

  async tunnelStart(profileId: string, authtoken?: string): Promise<ListenerState> {
    await this.startTunnel(authtoken);
    await this.saveSettings({ tunnel: true });
    return this.state(profileId);
  }

  async tunnelStop(profileId: string): Promise<ListenerState> {
    await this.tunnel.stop();
    this.tunnelRunning = false;
    await this.saveSettings({ tunnel: false });
    return this.state(profileId);
  }

  async setRestriction(profileId: string, restrictToTradingView: boolean): Promise<ListenerState> {
    await this.saveSettings({ restrictToTradingView });
    return this.state(profileId);
  }

  /** Posts a PING through the listener itself (the page's "Send a test alert"). */
  async sendTest(profileId: string): Promise<{ httpStatus: number; status: string; requestId: string | null }> {
    if (!this.listener.running) throw new AppError('conflict', 'errors.webhooks.startListenerFirst');
    const { secret, token } = await this.secret(profileId);
    const host = ['0.0.0.0', '::'].includes(this.opts.config.host) ? '127.0.0.1' : this.opts.config.host;
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${this.listener.port}/webhook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: JSON.stringify({ secret, action: 'PING', sender: 'Test alert (Aristobot)' }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json().catch(() => ({}))) as { status?: string; requestId?: string };
    return { httpStatus: res.status, status: body.status ?? 'unknown', requestId: body.requestId ?? null };
  }

  // -------------------------------------------------------------------------------------------
  // Receiving: journal first, answer at once

  private async brokersOf(profileId: string): Promise<Broker[]> {
    const c = this.brokerCache.get(profileId);
    if (c && this.now() - c.at < 2000) return c.list;
    const list = await this.opts.brokers.list(profileId);
    this.brokerCache.set(profileId, { at: this.now(), list });
    return list;
  }

  private resolveBroker(list: Broker[], name: string | null): Broker {
    const b = name === null ? list.find((x) => x.isDefault) : list.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!b) {
      const brokers = list.map((x) => `"${x.name}"`).join(', ') || nested(reason('coreWebhooks.refused.noBrokers'));
      if (name === null) throw new AlertError(422, 'coreWebhooks.refused.noDefaultBroker', { brokers });
      throw new AlertError(422, 'coreWebhooks.refused.unknownBroker', { name: name.slice(0, 60), brokers });
    }
    if (!b.active) throw new AlertError(422, 'coreWebhooks.refused.brokerInactive', { name: b.name });
    return b;
  }

  /** The exchange's market for a TradingView ticker; undefined when the exchange's markets are not known yet. */
  private resolveSymbol(exchange: string, symbol: string): string | null | undefined {
    const keys = this.marketKeys.get(exchange);
    if (!keys) return undefined;
    const { key, perpetual } = tickerKey(symbol);
    const m = keys.get(key);
    if (!m) return null;
    return perpetual ? (m.swap ?? m.spot ?? null) : (m.spot ?? m.swap ?? null);
  }

  private learnMarkets(ex: Exchange): void {
    if (this.marketKeys.has(ex.id) || !ex.markets) return;
    const keys = new Map<string, { spot?: string; swap?: string }>();
    for (const sym of Object.keys(ex.markets)) {
      const { key, swap } = marketKey(sym);
      const e = keys.get(key) ?? {};
      if (swap) e.swap ??= sym;
      else e.spot ??= sym;
      keys.set(key, e);
    }
    this.marketKeys.set(ex.id, keys);
  }

  private async journalRefusal(profileId: string, a: IncomingAlert, status: number, why: Reason, parsed: Record<string, unknown> | null, alert?: Partial<Alert>, broker?: Broker): Promise<AlertAnswer> {
    const row = await this.journal.insert(profileId, {
        senderIp: a.ip,
        contentType: a.contentType?.slice(0, 100) ?? null,
        alertId: alert?.id ?? (typeof parsed?.id === 'string' ? parsed.id.slice(0, 200) : null),
        dedupeKey: null,
        action: alert?.action ?? (typeof parsed?.action === 'string' ? parsed.action.slice(0, 40) : null),
        symbol: alert?.symbol ?? (typeof parsed?.symbol === 'string' ? parsed.symbol.slice(0, 60) : null),
        market: null,
        brokerId: broker?.id ?? null,
        brokerName: broker?.name ?? (typeof parsed?.broker === 'string' ? parsed.broker.slice(0, 100) : null),
        sender: null,
        payload: parsed ? scrubPayload(parsed) : null,
        raw: parsed ? null : scrubRaw(a.body),
        httpStatus: status,
        status: 'rejected',
        ...reasonCols(why),
      });
    this.emitReceived(profileId, row!);
    // The HTTP answer is read by TradingView (a machine): its reason stays English.
    return { status, body: { ok: false, status: 'rejected', requestId: row!.id, reason: why.text } };
  }

  private emitReceived(profileId: string, r: store.RequestRow): void {
    this.opts.bus.emit('webhooks.received', { requestId: r.id, status: r.status, action: r.action, symbol: r.symbol, httpStatus: r.http_status, receivedAt: r.received_at.toISOString() }, { profileId });
  }

  private emitUpdated(profileId: string, kind: 'request' | 'position' | 'senders', id: string | null = null): void {
    this.opts.bus.emit('webhooks.updated', { kind, id }, { profileId });
  }

  /** One request on `/webhook/<token>`: journaled, then answered. Never throws for what the sender did. */
  async receive(a: IncomingAlert): Promise<AlertAnswer> {
    const profileId = this.routes.get(sha(a.token));
    if (!profileId) return { status: 404, body: { ok: false, status: 'not_found' } };
    if (this.settings.restrictToTradingView && !(a.ip && TRADINGVIEW_IPS.includes(a.ip.replace(/^::ffff:/, '')))) {
      return this.journalRefusal(profileId, a, 403, reason('coreWebhooks.refused.notTradingView', { ip: a.ip ?? nested(reason('coreWebhooks.refused.unknownAddress')) }), null);
    }
    if (acceptedContentType(a.contentType) === null) {
      return this.journalRefusal(profileId, a, 415, reason('coreWebhooks.refused.contentType', { type: String(a.contentType).slice(0, 60) }), null);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = parseBody(a.body);
    } catch (e) {
      if (e instanceof AlertError) return this.journalRefusal(profileId, a, e.status, e.reason, null);
      throw e;
    }
    const given = secretOf(parsed);
    const expected = await this.secretHash(profileId);
    const ok = given !== null && expected !== null && timingSafeEqual(Buffer.from(sha(given), 'hex'), expected);
    if (!ok) return this.journalRefusal(profileId, a, 401, reason(given === null ? 'coreWebhooks.refused.missingSecret' : 'coreWebhooks.refused.wrongSecret'), parsed);

    let alert: Alert;
    let broker: Broker | undefined;
    let market: string | null | undefined;
    try {
      alert = parseAlert(parsed);
      if (alert.action !== 'PING') {
        broker = this.resolveBroker(await this.brokersOf(profileId), alert.broker);
        market = this.resolveSymbol(broker.exchange, alert.symbol!);
        if (market === null) throw new AlertError(422, 'coreWebhooks.refused.unknownSymbol', { symbol: alert.symbol, exchange: broker.exchange, broker: broker.name });
      }
    } catch (e) {
      if (e instanceof AlertError) return this.journalRefusal(profileId, a, e.status, e.reason, parsed, undefined, broker);
      throw e;
    }
    const base = {
      senderIp: a.ip,
      contentType: a.contentType?.slice(0, 100) ?? null,
      alertId: alert.id,
      action: alert.action,
      symbol: alert.symbol,
      market: market ?? null,
      brokerId: broker?.id ?? null,
      brokerName: broker?.name ?? null,
      sender: alert.action === 'PING' ? senderName(alert) : null,
      payload: scrubPayload(parsed),
      raw: null,
    };
    if (alert.action === 'PING') {
      const at = new Date(this.now());
      const row = await this.journal.insert(profileId, { ...base, dedupeKey: null, httpStatus: 200, status: 'processed', ...reasonCols(alert.expect ? reason('coreWebhooks.result.aliveExpect', { minutes: alert.expect }) : reason('coreWebhooks.result.alive')) }, async (c, r) => {
        await store.recordPing(c, base.sender!, at, a.ip, alert.expect);
        return r!;
      });
      this.emitReceived(profileId, row);
      this.emitUpdated(profileId, 'senders');
      this.missed.delete(`${profileId}\n${base.sender}`);
      return { status: 200, body: { ok: true, status: 'processed', requestId: row.id } };
    }
    // Journaled in the batch's one round trip; an id journaled before (earlier, or earlier in the same
    // batch) gets its own 'duplicate' row, committed before its answer.
    const got = await this.journal.receipt(profileId, { ...base, dedupeKey: alert.id, httpStatus: 202, status: 'received', reason: null }, async (c) => {
      const original = await store.requestByDedupe(c, alert.id!);
      const dup = await store.insertRequest(c, { ...base, dedupeKey: null, httpStatus: 200, status: 'duplicate', ...reasonCols(reason('coreWebhooks.result.duplicate', { at: original?.received_at.toISOString() ?? '?' })) });
      return { row: dup!, original };
    });
    if ('duplicate' in got) {
      const { row: dup, original } = got.duplicate;
      this.emitReceived(profileId, dup);
      return { status: 200, body: { ok: true, status: 'duplicate', requestId: dup.id, originalRequestId: original?.id ?? null } };
    }
    this.emitReceived(profileId, got.row);
    this.enqueue(profileId, got.row);
    return { status: 202, body: { ok: true, status: 'received', requestId: got.row.id } };
  }

  // -------------------------------------------------------------------------------------------
  // Processing

  /** Requests of one broker and symbol are processed in order, one at a time. */
  private enqueue(profileId: string, row: store.RequestRow): void {
    if (this.stopped) return; // picked up by the next start
    this.chain(`${profileId}\n${row.broker_id}\n${tickerKey(row.symbol ?? '').key}`, () => this.process(profileId, row), row.id);
  }

  private chain(key: string, work: () => Promise<void>, request: string | null = null): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(work).catch((e: unknown) => this.log.error({ request, err: (e as Error).message }, 'webhook processing failed'));
    this.chains.set(key, next);
    this.running.add(next);
    void next.finally(() => {
      this.running.delete(next);
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Requests left `received` or `processing` by an earlier run: processed again (their client order id makes that safe). */
  private async resume(): Promise<void> {
    const { rows: profiles } = await this.db.query<{ id: string }>('SELECT id FROM profiles');
    for (const p of profiles) {
      const { rows } = await this.db.withProfile(p.id, (c) => c.query<store.RequestRow>("SELECT * FROM webhook_requests WHERE status IN ('received', 'processing') ORDER BY received_at"));
      for (const r of rows) this.enqueue(p.id, r);
      if (rows.length) this.log.info({ profile: p.id, requests: rows.length }, 'resuming webhook requests left unprocessed');
    }
  }

  /** Waits until every request received so far is processed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  private async setStatus(profileId: string, id: string, status: store.RequestStatus, fields: { reason?: Reason; orderId?: string | null; market?: string | null } = {}): Promise<void> {
    const { reason: why, ...rest } = fields;
    await this.journal.status(profileId, { id, status, ...rest, ...(why ? reasonCols(why) : {}) });
    this.emitUpdated(profileId, 'request', id);
  }

  private async process(profileId: string, row: store.RequestRow): Promise<void> {
    await this.setStatus(profileId, row.id, 'processing');
    let alert: Alert;
    try {
      alert = parseAlert(row.payload ?? {});
    } catch (e) {
      return this.setStatus(profileId, row.id, 'rejected', { reason: e instanceof AlertError ? e.reason : reason('errors.external', { reason: (e as Error).message }) });
    }
    try {
      const { ex, broker } = await this.opts.brokers.exchangeFor(profileId, row.broker_id!);
      this.learnMarkets(ex);
      const market = this.resolveSymbol(ex.id, alert.symbol!);
      if (!market) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.unknownSymbol', { symbol: alert.symbol, exchange: broker.exchange, broker: broker.name }) });
      const sandbox = sandboxOf(ex);
      if (alert.action === 'MAJ') return await this.moveStops(profileId, row, alert, broker, sandbox, market);
      await this.trade(profileId, row, alert, ex, broker, sandbox, market);
    } catch (e) {
      const err = isAppError(e) ? e : externalError('internal', e);
      const order = (err.details as { order?: { id?: string } } | undefined)?.order;
      const status = err.code === 'invalid_order' || err.code === 'insufficient_funds' || REFUSAL_CODES.has(err.code) ? 'rejected' : 'error';
      this.log.info({ request: row.id, code: err.code, status }, 'webhook not executed');
      await this.setStatus(profileId, row.id, status, { reason: errorReason(err), orderId: order?.id ?? null });
    }
  }

  private async moveStops(profileId: string, row: store.RequestRow, alert: Alert, broker: Broker, sandbox: boolean, market: string): Promise<void> {
    const pos = await this.db.withProfile(profileId, (c) => store.positionOf(c, broker.id, sandbox, market));
    if (!pos || !pos.quantity.gt(0)) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.noPosition', { market, broker: broker.name }), market });
    const sl = alert.sl ?? pos.stop_loss;
    const tp = alert.tp ?? pos.take_profit;
    if (sl && tp && !sl.lt(tp)) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.slStaysBelowTp', { sl: sl.toFixed(), tp: tp.toFixed() }), market });
    const last = (await this.opts.orders.ticker(profileId, broker.id, market)).last;
    const bad = checkLevels({ stopLoss: sl, takeProfit: tp }, last);
    if (bad.length) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.notMoved', { issues: nested(levelReasons(bad, sl, tp, last)) }), market });
    await this.db.withProfile(profileId, (c) => c.query('UPDATE webhook_positions SET stop_loss = $2, take_profit = $3, updated_at = now() WHERE id = $1', [pos.id, sl?.toFixed() ?? null, tp?.toFixed() ?? null]));
    const moved = await this.ensureProtection(profileId, { ...pos, stop_loss: sl, take_profit: tp }, row.id);
    this.emitUpdated(profileId, 'position', pos.id);
    const how = moved.mode === 'native' ? reason('coreWebhooks.result.movedNative') : moved.reason ? reason('coreWebhooks.result.movedWatchedWhy', { reason: moved.reason }) : reason('coreWebhooks.result.movedWatched');
    const none = nested(reason('coreWebhooks.result.none'));
    await this.setStatus(profileId, row.id, 'processed', { reason: reason('coreWebhooks.result.moved', { sl: sl?.toFixed() ?? none, tp: tp?.toFixed() ?? none, how: nested(how) }), market });
  }

  private async freeBalance(ex: Exchange, asset: string): Promise<Decimal> {
    const bal = await this.opts.gateway.run(ex.id, 'fetch balance', () => ex.fetchBalance());
    const v = (bal.free as unknown as Record<string, unknown> | undefined)?.[asset];
    return v === undefined || v === null ? new Decimal(0) : new Decimal(String(v));
  }

  private async trade(profileId: string, row: store.RequestRow, alert: Alert, ex: Exchange, broker: Broker, sandbox: boolean, market: string): Promise<void> {
    const side = alert.action.startsWith('Buy') ? 'buy' : 'sell';
    const type = alert.action.endsWith('Limit') ? 'limit' : 'market';
    const m = ex.markets![market]!;
    let amount: Decimal | undefined;
    let cost: Decimal | undefined;
    if (side === 'buy' && (alert.sl || alert.tp)) {
      // Levels that cannot protect a long (a stop-loss above the price, …): refused before anything is bought.
      const reference = type === 'limit' ? alert.price! : (await this.opts.orders.ticker(profileId, broker.id, market)).last;
      const bad = checkLevels({ stopLoss: alert.sl, takeProfit: alert.tp }, reference);
      if (bad.length) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.invalidLevels', { issues: nested(levelReasons(bad, alert.sl, alert.tp, reference)) }), market });
    }
    if (side === 'buy') {
      if (alert.amount) amount = alert.amount;
      else {
        const free = await this.freeBalance(ex, String(m.quote));
        const spend = free.times(alert.percent!).div(100).toDecimalPlaces(8, Decimal.ROUND_DOWN);
        if (!spend.gt(0)) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.noFree', { quote: String(m.quote), percent: alert.percent!.toFixed(), free: free.toFixed() }), market });
        if (type === 'market') cost = spend;
        else amount = spend.div(alert.price!).toDecimalPlaces(12, Decimal.ROUND_DOWN);
      }
    } else {
      const book = await this.recompute(profileId, broker.id, sandbox, broker.exchange, market, String(m.base), String(m.quote));
      const held = book.quantity;
      if (!held.gt(0)) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.emptyPosition', { market, broker: broker.name }), market });
      if (alert.amount) {
        if (alert.amount.gt(held)) return this.setStatus(profileId, row.id, 'rejected', { reason: reason('coreWebhooks.refused.overPosition', { market, held: held.toFixed(), base: String(m.base), amount: alert.amount.toFixed() }), market });
        amount = alert.amount;
      } else amount = held.times(alert.percent!).div(100);
      // Native stop-loss / take-profit hold the coins: cancelled first, placed again for what is left.
      const pos = await this.db.withProfile(profileId, (c) => store.positionOf(c, broker.id, sandbox, market));
      const pair = pos ? await this.latestPair(profileId, pos.id, true) : null;
      if (pair) await this.opts.orders.cancelProtection(profileId, broker.id, sandbox, pair);
    }
    const order = await this.opts.orders.place(profileId, {
      brokerId: broker.id,
      symbol: market,
      side,
      type,
      ...(amount ? { amount } : { cost: cost! }),
      ...(type === 'limit' ? { price: alert.price! } : {}),
      source: 'webhook',
      sourceRef: row.id,
      clientOrderId: webhookClientOrderId(profileId, row.dedupe_key ?? row.id),
    });
    if (side === 'buy' && (alert.sl || alert.tp)) {
      await this.db.withProfile(profileId, (c) =>
        c.query(
          `INSERT INTO webhook_positions (broker_id, sandbox, exchange, symbol, base, quote, stop_loss, take_profit) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
           ON CONFLICT (profile_id, broker_id, sandbox, symbol) DO UPDATE SET stop_loss = COALESCE(EXCLUDED.stop_loss, webhook_positions.stop_loss), take_profit = COALESCE(EXCLUDED.take_profit, webhook_positions.take_profit), updated_at = now()`,
          [broker.id, sandbox, broker.exchange, market, String(m.base), String(m.quote), alert.sl?.toFixed() ?? null, alert.tp?.toFixed() ?? null],
        ),
      );
    }
    await this.recompute(profileId, broker.id, sandbox, broker.exchange, market, String(m.base), String(m.quote));
    let note: Reason | null = null;
    const pos = await this.db.withProfile(profileId, (c) => store.positionOf(c, broker.id, sandbox, market));
    if (pos && pos.quantity.gt(0) && (pos.stop_loss || pos.take_profit)) {
      try {
        const p = await this.ensureProtection(profileId, pos, row.id);
        note = p.mode === 'native' ? reason('coreWebhooks.result.nativeNote') : reason('coreWebhooks.result.watchedNote', { reason: p.reason });
      } catch (e) {
        // The order is placed; its protection falls back to the app's watch.
        const err = isAppError(e) ? e : externalError('internal', e);
        await this.setExitReason(profileId, pos.id, errorReason(err), "protection = 'watched'");
        await this.markProtection(profileId, row.id, 'watched');
        note = reason('coreWebhooks.result.fallbackNote', { error: err });
      }
    }
    const done = order.filled.gt(0)
      ? reason('coreWebhooks.result.orderFilled', { status: orderStatus(order.status), filled: order.filled.toFixed(), base: String(m.base), note: note ? nested(note) : '' })
      : reason('coreWebhooks.result.order', { status: orderStatus(order.status), note: note ? nested(note) : '' });
    await this.setStatus(profileId, row.id, 'processed', { reason: done, orderId: order.id, market });
  }

  // -------------------------------------------------------------------------------------------
  // The webhook book

  /** Recomputes a webhook position from its orders' fills (FIFO); a position closed to zero drops its SL/TP. */
  async recompute(profileId: string, brokerId: string, sandbox: boolean, exchange: string, symbol: string, base: string, quote: string): Promise<{ quantity: Decimal }> {
    const res = await this.db.withProfile(profileId, async (c) => {
      const fills = await store.webhookFills(c, brokerId, sandbox, symbol);
      const b = bookFromFills(fills.map((f) => ({ side: f.side, amount: f.amount, price: f.price, fee: f.fee, feeCurrency: f.fee_currency })), { base, quote });
      const before = await store.positionOf(c, brokerId, sandbox, symbol);
      if (!before && !fills.length) return { quantity: b.quantity, changed: false };
      const closed = before !== null && before.quantity.gt(0) && b.quantity.isZero();
      await c.query(
        `INSERT INTO webhook_positions (broker_id, sandbox, exchange, symbol, base, quote, quantity, average_entry, realised_pnl, fills) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
         ON CONFLICT (profile_id, broker_id, sandbox, symbol) DO UPDATE SET quantity = EXCLUDED.quantity, average_entry = EXCLUDED.average_entry, realised_pnl = EXCLUDED.realised_pnl, fills = EXCLUDED.fills, updated_at = now()`,
        [brokerId, sandbox, exchange, symbol, base, quote, b.quantity.toFixed(), b.averageEntry?.toFixed() ?? null, b.realisedPnl.toFixed(), fills.length],
      );
      if (closed) {
        await c.query('UPDATE webhook_positions SET stop_loss = NULL, take_profit = NULL, exit_order_id = NULL, generation = generation + 1 WHERE broker_id = $1 AND sandbox = $2 AND symbol = $3', [brokerId, sandbox, symbol]);
      }
      return { quantity: b.quantity, changed: !before || !before.quantity.eq(b.quantity) || before.fills !== fills.length };
    });
    if (res.changed) this.emitUpdated(profileId, 'position');
    return res;
  }

  /** The position's most recent native pair (its `oco_ref`); with `open`, only one whose legs are still open or pending. */
  private async latestPair(profileId: string, positionId: string, open = false): Promise<string | null> {
    const { rows } = await this.db.withProfile(profileId, (c) =>
      c.query<{ oco_ref: string }>(
        `SELECT oco_ref FROM orders WHERE source = 'webhook' AND source_ref = $1 AND oco_ref IS NOT NULL
            ${open ? "AND status IN ('intent', 'sent', 'unknown', 'open', 'partially_filled')" : ''} ORDER BY created_at DESC LIMIT 1`,
        [`position:${positionId}`],
      ),
    );
    return rows[0]?.oco_ref ?? null;
  }

  /** A webhook position's exit reason: its English text with its key and parameters (and `set`, more columns to change, parameters from $5). */
  private async setExitReason(profileId: string, positionId: string, why: Reason, set = '', more: unknown[] = []): Promise<void> {
    await this.db.withProfile(profileId, (c) =>
      c.query(`UPDATE webhook_positions SET exit_reason = $2, exit_reason_key = $3, exit_reason_params = $4${set ? `, ${set}` : ''} WHERE id = $1`, [positionId, why.text, why.key, JSON.stringify(why.params), ...more]),
    );
  }

  private async markProtection(profileId: string, requestId: string | null, mode: 'native' | 'watched'): Promise<void> {
    if (requestId) await this.db.withProfile(profileId, (c) => c.query('UPDATE webhook_requests SET protection = $2 WHERE id = $1', [requestId, mode]));
  }

  /**
   * Puts the position's stop-loss / take-profit at the exchange as native orders for its whole
   * quantity where the exchange can hold them, else leaves them to the watcher; records which on the
   * position (and the request). The pair's client order id is derived from the position, its
   * generation, quantity and levels: the same state never places twice (a restart, a retry), and a
   * changed one cancels the old pair first.
   */
  private async ensureProtection(profileId: string, pos: store.PositionRow, requestId: string | null): Promise<{ mode: 'native' | 'watched'; reason: string }> {
    // Every pair the position had, newest first; the n-th pair's id is derived from the state it protects and n.
    const { rows: pairs } = await this.db.withProfile(profileId, (c) =>
      c.query<{ oco_ref: string; open: boolean }>(
        `SELECT oco_ref, bool_or(status IN ('intent', 'sent', 'unknown', 'open', 'partially_filled')) AS open FROM orders
          WHERE source = 'webhook' AND source_ref = $1 AND oco_ref IS NOT NULL GROUP BY oco_ref ORDER BY max(created_at) DESC`,
        [`position:${pos.id}`],
      ),
    );
    const open = pairs.filter((p) => p.open).map((p) => p.oco_ref);
    if (!pos.quantity.gt(0) || (!pos.stop_loss && !pos.take_profit)) {
      for (const ref of open) await this.opts.orders.cancelProtection(profileId, pos.broker_id, pos.sandbox, ref);
      return { mode: pos.protection, reason: '' };
    }
    const state = `prot:${pos.id}:${pos.generation}:${pos.quantity.toFixed()}:${pos.stop_loss?.toFixed() ?? ''}:${pos.take_profit?.toFixed() ?? ''}`;
    if (pairs[0]?.open && pairs[0].oco_ref === webhookClientOrderId(profileId, `${state}:${pairs.length - 1}`)) {
      // Already protected in this very state (a request processed again after a restart).
      await this.markProtection(profileId, requestId, 'native');
      return { mode: 'native', reason: '' };
    }
    for (const ref of open) await this.opts.orders.cancelProtection(profileId, pos.broker_id, pos.sandbox, ref);
    const clientOrderId = webhookClientOrderId(profileId, `${state}:${pairs.length}`);
    const p = await this.opts.orders.protect(profileId, {
      brokerId: pos.broker_id,
      symbol: pos.symbol,
      amount: pos.quantity,
      stopLoss: pos.stop_loss,
      takeProfit: pos.take_profit,
      source: 'webhook',
      sourceRef: `position:${pos.id}`,
      clientOrderId,
    });
    // The order service's reason for watching (its own words) is kept as a parameter.
    const why = p.mode === 'watched' ? reason('errors.external', { reason: p.reason }) : null;
    await this.db.withProfile(profileId, (c) =>
      c.query('UPDATE webhook_positions SET protection = $2, exit_reason = $3, exit_reason_key = $4, exit_reason_params = $5, updated_at = now() WHERE id = $1', [pos.id, p.mode, why?.text ?? null, why?.key ?? null, why ? JSON.stringify(why.params) : null]),
    );
    await this.markProtection(profileId, requestId, p.mode);
    this.emitUpdated(profileId, 'position', pos.id);
    this.log.info({ position: pos.id, mode: p.mode, how: p.how, reason: p.reason }, 'webhook position protection');
    return { mode: p.mode, reason: p.reason };
  }

  private onOrdersUpdated(profileId: string, orderIds: string[]): void {
    if (this.stopped || !orderIds.length) return;
    const p = this.db
      .withProfile(profileId, (c) =>
        c.query<{ broker_id: string; sandbox: boolean; exchange: string; symbol: string; entries: string[] }>(
          // `entries`: the alerts' own orders (not a pair's leg, not the watcher's exit) that have fills: a limit entry filled later
          `SELECT broker_id, sandbox, exchange, symbol,
                  array_remove(array_agg(DISTINCT source_ref) FILTER (WHERE filled > 0 AND source_ref IS NOT NULL AND source_ref NOT LIKE 'position:%'), NULL) AS entries
             FROM orders WHERE id = ANY($1) AND source = 'webhook' AND broker_id IS NOT NULL GROUP BY broker_id, sandbox, exchange, symbol`,
          [orderIds],
        ),
      )
      .then(async ({ rows }) => {
        for (const r of rows) {
          const [base = r.symbol, quote = ''] = r.symbol.split(':')[0]!.split('/');
          await this.recompute(profileId, r.broker_id, r.sandbox, r.exchange, r.symbol, base, quote);
          if (r.entries.length) this.protectAfterFill(profileId, r.broker_id, r.sandbox, r.symbol, r.entries.at(-1)!);
        }
      })
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'webhook position not recomputed'));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /**
   * An alert's order filled after it was processed (a BuyLimit that rested): the position's stop-loss
   * / take-profit are put at the exchange as native orders for the quantity now held, as for a market
   * entry, where the exchange can hold them (else they stay watched by the app). Runs in the chain of
   * the broker and symbol, after the request that placed the order: `ensureProtection` finds the pair
   * already in place when that request protected it itself, and places nothing twice.
   */
  private protectAfterFill(profileId: string, brokerId: string, sandbox: boolean, market: string, requestId: string): void {
    this.chain(`${profileId}\n${brokerId}\n${marketKey(market).key}`, async () => {
      const pos = await this.db.withProfile(profileId, (c) => store.positionOf(c, brokerId, sandbox, market));
      if (!pos || !pos.quantity.gt(0) || (!pos.stop_loss && !pos.take_profit) || pos.exit_order_id) return;
      const request = /^[0-9a-f-]{36}$/.test(requestId) ? requestId : null;
      try {
        await this.ensureProtection(profileId, pos, request);
      } catch (e) {
        const err = isAppError(e) ? e : new AppError('internal', 'errors.webhooks.protectionNotPlaced', { reason: (e as Error).message });
        await this.setExitReason(profileId, pos.id, errorReason(err), "protection = 'watched'");
        await this.markProtection(profileId, request, 'watched');
        this.log.warn({ position: pos.id, err: err.message }, 'native stop-loss / take-profit not placed after the fill; watched by the app');
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // The watcher: SL/TP on live prices, open webhook orders, missed pings

  private kick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = this.tick()
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'webhook watch failed'))
      .finally(() => (this.ticking = null));
  }

  /** One pass of the watcher (also called by tests). */
  async tick(): Promise<void> {
    await this.loadRoutes();
    const { rows: profiles } = await this.db.query<{ id: string }>('SELECT id FROM profiles');
    for (const { id: profileId } of profiles) {
      await this.syncOpenOrders(profileId);
      await this.watchStops(profileId);
      await this.checkSenders(profileId);
    }
  }

  private async syncOpenOrders(profileId: string): Promise<void> {
    const { rows } = await this.db.withProfile(profileId, (c) => c.query<{ broker_id: string }>("SELECT DISTINCT broker_id FROM orders WHERE source = 'webhook' AND broker_id IS NOT NULL AND status IN ('open', 'partially_filled')"));
    for (const r of rows) await this.opts.orders.sync(profileId, r.broker_id).catch((e: unknown) => this.log.warn({ broker: r.broker_id, err: (e as Error).message }, 'webhook orders not synced'));
  }

  private async watchStops(profileId: string): Promise<void> {
    const positions = await this.db.withProfile(profileId, (c) => c.query<store.PositionRow>('SELECT * FROM webhook_positions WHERE quantity > 0 AND (stop_loss IS NOT NULL OR take_profit IS NOT NULL) AND exit_order_id IS NULL'));
    for (const pos of positions.rows) {
      try {
        const { ex } = await this.opts.brokers.exchangeFor(profileId, pos.broker_id);
        if (sandboxOf(ex) !== pos.sandbox) continue; // the other mode's position: watched when the broker trades there again
        if (pos.protection === 'native' && (await this.watchNative(profileId, pos))) continue;
        const t = await this.opts.orders.ticker(profileId, pos.broker_id, pos.symbol);
        const last = t.last;
        if (!last) continue;
        const reason = pos.stop_loss && last.lte(pos.stop_loss) ? 'stop_loss' : pos.take_profit && last.gte(pos.take_profit) ? 'take_profit' : null;
        if (reason) await this.exit(profileId, pos, reason, last);
      } catch (e) {
        this.log.warn({ position: pos.id, err: (e as Error).message }, 'stop-loss / take-profit not checked');
      }
    }
  }

  /**
   * A natively protected position: its pair is read at the exchange (a filled leg's fills feed the
   * book; the other leg is cancelled where the exchange does not do it). True while the exchange
   * protects it (or a leg has executed); false when the legs are gone without executing (cancelled
   * or refused elsewhere): the position is then watched by the app.
   */
  private async watchNative(profileId: string, pos: store.PositionRow): Promise<boolean> {
    const pair = await this.latestPair(profileId, pos.id);
    if (!pair) return false;
    const s = await this.opts.orders.settleProtection(profileId, pos.broker_id, pos.sandbox, pair);
    if (s.filled) {
      const label = nested(reason(s.filled.protects === 'stop_loss' ? 'coreWebhooks.exit.stopLoss' : 'coreWebhooks.exit.takeProfit'));
      await this.setExitReason(profileId, pos.id, reason('coreWebhooks.exit.atExchange', { label, status: orderStatus(s.filled.status), filled: s.filled.filled.toFixed(), base: pos.base }), 'updated_at = now()');
      await this.recompute(profileId, pos.broker_id, pos.sandbox, pos.exchange, pos.symbol, pos.base, pos.quote);
      this.emitUpdated(profileId, 'position', pos.id);
      return true;
    }
    if (s.active) return true;
    this.log.warn({ position: pos.id, pair }, 'native stop-loss / take-profit no longer at the exchange; watched by the app');
    await this.setExitReason(profileId, pos.id, reason('coreWebhooks.exit.nativeGone'), "protection = 'watched', updated_at = now()");
    this.emitUpdated(profileId, 'position', pos.id);
    return false;
  }

  private async exit(profileId: string, pos: store.PositionRow, why: 'stop_loss' | 'take_profit', price: Decimal): Promise<void> {
    const label = nested(reason(why === 'stop_loss' ? 'coreWebhooks.exit.stopLoss' : 'coreWebhooks.exit.takeProfit'));
    let orderId: string | null = null;
    let note: Reason;
    try {
      const order = await this.opts.orders.place(profileId, {
        brokerId: pos.broker_id,
        symbol: pos.symbol,
        side: 'sell',
        type: 'market',
        amount: pos.quantity,
        source: 'webhook',
        sourceRef: `position:${pos.id}`,
        clientOrderId: webhookClientOrderId(profileId, `exit:${pos.id}:${pos.generation}`),
      });
      orderId = order.id;
      note = reason('coreWebhooks.exit.sold', { label, price: price.toFixed(), status: orderStatus(order.status) });
    } catch (e) {
      const err = isAppError(e) ? e : externalError('internal', e);
      orderId = (err.details as { order?: { id?: string } } | undefined)?.order?.id ?? null;
      note = reason('coreWebhooks.exit.saleFailed', { label, price: price.toFixed(), error: err });
      if (!orderId) {
        // Nothing journaled (the exchange unreachable): the next pass tries again with the same client order id.
        this.log.warn({ position: pos.id, err: err.message }, 'stop-loss / take-profit sale not placed; retrying');
        await this.setExitReason(profileId, pos.id, note);
        return;
      }
    }
    this.log.info({ position: pos.id, reason: why, order: orderId }, 'webhook position exit');
    await this.setExitReason(profileId, pos.id, note, 'exit_order_id = $5, updated_at = now()', [orderId]);
    const [base = pos.base, quote = pos.quote] = [pos.base, pos.quote];
    await this.recompute(profileId, pos.broker_id, pos.sandbox, pos.exchange, pos.symbol, base, quote);
    this.emitUpdated(profileId, 'position', pos.id);
  }

  /** Senders whose expected PING is late. */
  async senders(profileId: string): Promise<{ name: string; lastPingAt: Date; lastIp: string | null; expectMinutes: number | null; pings: number; missed: boolean; dueAt: Date | null }[]> {
    const rows = await this.db.withProfile(profileId, (c) => store.senders(c));
    const now = this.now();
    return rows.map((r) => {
      const dueAt = r.expect_minutes ? new Date(r.last_ping_at.getTime() + r.expect_minutes * 60_000) : null;
      return { name: r.name, lastPingAt: r.last_ping_at, lastIp: r.last_ip, expectMinutes: r.expect_minutes, pings: r.pings, missed: dueAt !== null && now > dueAt.getTime(), dueAt };
    });
  }

  private async checkSenders(profileId: string): Promise<void> {
    const list = await this.senders(profileId);
    let changed = false;
    for (const s of list) {
      const key = `${profileId}\n${s.name}`;
      const was = this.missed.has(key);
      if (s.missed && !was) {
        this.missed.set(key, s.name);
        this.log.warn({ profile: profileId, sender: s.name, lastPingAt: s.lastPingAt.toISOString() }, 'webhook sender missed its PING');
        changed = true;
      } else if (!s.missed && was) {
        this.missed.delete(key);
        changed = true;
      }
    }
    if (changed) this.emitUpdated(profileId, 'senders');
  }

  // -------------------------------------------------------------------------------------------
  // Reads for the page

  async list(profileId: string, f: store.RequestFilters): Promise<store.RequestWithOrder[]> {
    return this.db.withProfile(profileId, (c) => store.listRequests(c, f));
  }

  async stats(profileId: string, period: '24h' | '7d' | '30d'): Promise<Awaited<ReturnType<typeof store.stats>> & { period: string; since: Date }> {
    const ms = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 }[period];
    const since = new Date(this.now() - ms);
    return { period, since, ...(await this.db.withProfile(profileId, (c) => store.stats(c, since))) };
  }

  async positions(profileId: string): Promise<(store.PositionRow & { price: Decimal | null; brokerName: string | null })[]> {
    const rows = await this.db.withProfile(profileId, (c) => store.listPositions(c));
    const brokers = await this.opts.brokers.list(profileId);
    const out = [];
    for (const r of rows) {
      let price: Decimal | null = null;
      if (r.quantity.gt(0)) price = (await this.opts.orders.ticker(profileId, r.broker_id, r.symbol).catch(() => null))?.last ?? null;
      out.push({ ...r, price, brokerName: brokers.find((b) => b.id === r.broker_id)?.name ?? null });
    }
    return out;
  }

  async templates(profileId: string, brokerId?: string): Promise<{ broker: string | null; templates: { action: Action; title: string; message: string }[] }> {
    const { secret } = await this.secret(profileId);
    const list = await this.opts.brokers.list(profileId);
    const b = brokerId ? list.find((x) => x.id === brokerId) : (list.find((x) => x.isDefault) ?? list[0]);
    if (brokerId && !b) throw new AppError('not_found', 'errors.webhooks.noSuchBroker', {}, { field: 'brokerId' });
    const broker = b?.name ?? '<broker name>';
    const common = { secret, id: '{{strategy.order.id}}-{{timenow}}', broker, symbol: '{{ticker}}' };
    const t = (action: Action, title: string, o: Record<string, unknown>) => ({ action, title, message: JSON.stringify(o, null, 2) });
    return {
      broker: b?.name ?? null,
      templates: [
        t('PING', 'PING — the sender is alive', { secret, action: 'PING', sender: '{{ticker}} {{interval}}', interval: '{{interval}}', expect: 5 }),
        t('BuyMarket', 'Buy at market', { ...common, action: 'BuyMarket', price: '{{close}}', percent: 10, sl: '', tp: '', interval: '{{interval}}' }),
        t('SellMarket', 'Sell at market', { ...common, action: 'SellMarket', price: '{{close}}', percent: 100, interval: '{{interval}}' }),
        t('BuyLimit', 'Buy limit', { ...common, action: 'BuyLimit', price: '{{close}}', amount: '0.001', sl: '', tp: '', interval: '{{interval}}' }),
        t('SellLimit', 'Sell limit', { ...common, action: 'SellLimit', price: '{{close}}', percent: 50, interval: '{{interval}}' }),
        t('MAJ', 'MAJ — move the stop-loss / take-profit', { ...common, action: 'MAJ', sl: '{{plot_0}}', tp: '{{plot_1}}' }),
      ],
    };
  }

  /** Missed pings of the profile (the header's alert). */
  async missedPings(profileId: string): Promise<string[]> {
    return (await this.senders(profileId)).filter((s) => s.missed).map((s) => s.name);
  }
}
