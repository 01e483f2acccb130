import type { PoolClient } from 'pg';
import type { z } from 'zod';
import {
  DEFAULT_ROUTES,
  NOTIFICATION_KINDS,
  type Notification as NotificationSchema,
  type NotificationChannelName,
  type NotificationKindName,
  type NotificationSettings as SettingsSchema,
} from '../../shared/contract/notifications';
import { AppError, invalidField, wireParams } from '../../shared/errors';
import { hasKey, pickLocale, translate, type Locale, type MessageKey, type Params, type Text } from '../../shared/i18n';
import type { Database } from '../db/database';
import type { BusEvent, EventBus } from '../events';
import type { Logger } from '../log';
import { newSecretRef, type SecretStore } from '../secrets/store';
import { TelegramClient, TelegramError } from './telegram';

export type NotificationDto = z.input<typeof NotificationSchema>;
export type NotificationSettingsDto = z.input<typeof SettingsSchema>;
type Kind = NotificationKindName | 'test';
type Level = 'info' | 'success' | 'warning' | 'danger';

export interface NotifyConfig {
  /** How often the Telegram queue and the heartbeat outage are looked at (ms; 0 = only when kicked). */
  tickMs: number;
  /** At least this long between two messages to one chat (Telegram allows about one a second per chat). */
  telegramMinIntervalMs: number;
  /** Retry backoff for a queued Telegram message: base × 2^(attempts-1), at most max. */
  retryBaseMs: number;
  retryMaxMs: number;
  now: () => number;
}

export const DEFAULT_NOTIFY_CONFIG: NotifyConfig = { tickMs: 5000, telegramMinIntervalMs: 1000, retryBaseMs: 2000, retryMaxMs: 300_000, now: () => Date.now() };

/** `ARISTOBOT_TELEGRAM_*` (README's settings table). */
export function notifyEnv(env: NodeJS.ProcessEnv = process.env): { telegramApiUrl: string | undefined; config: Partial<NotifyConfig> } {
  const num = (name: string, min: number): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of milliseconds ≥ ${min}, got "${v}"`);
    return n;
  };
  const config: Partial<NotifyConfig> = {};
  const interval = num('ARISTOBOT_TELEGRAM_MIN_INTERVAL_MS', 0);
  if (interval !== undefined) config.telegramMinIntervalMs = interval;
  const base = num('ARISTOBOT_TELEGRAM_RETRY_MS', 10);
  if (base !== undefined) config.retryBaseMs = base;
  return { telegramApiUrl: env.ARISTOBOT_TELEGRAM_API_URL || undefined, config };
}

interface SettingsRow {
  routes: Partial<Record<NotificationKindName, NotificationChannelName[]>>;
  heartbeat_down_minutes: number;
  telegram_secret_ref: string | null;
  telegram_token_hint: string | null;
  telegram_bot_username: string | null;
  telegram_chat_id: string | null;
}
const DEFAULT_SETTINGS: SettingsRow = { routes: {}, heartbeat_down_minutes: 5, telegram_secret_ref: null, telegram_token_hint: null, telegram_bot_username: null, telegram_chat_id: null };

interface Row {
  id: string;
  kind: Kind;
  level: Level;
  title: string;
  body: string;
  title_key: string | null;
  title_params: Params | null;
  body_key: string | null;
  body_params: Params | null;
  ref: string | null;
  channels: NotificationChannelName[];
  created_at: Date;
  read_at: Date | null;
  telegram_status: 'pending' | 'sent' | 'failed' | null;
  telegram_attempts: number;
  telegram_next_at: Date | null;
  telegram_error: string | null;
  telegram_error_key: string | null;
  telegram_error_params: Params | null;
}

export interface NotifyInput {
  kind: Kind;
  level: Level;
  /** Catalogue keys and parameters (shared/i18n notifications area): stored with their English wording. */
  title: Text;
  body: Text;
  ref?: string | null;
  /** One notification per fact: a second notify with the same key is dropped. */
  dedupeKey?: string | null;
  /** Only these channels (the test button); otherwise the profile's routes for the kind. */
  channels?: NotificationChannelName[];
}

export interface SettingsPatch {
  routes?: Partial<Record<NotificationKindName, NotificationChannelName[]>>;
  heartbeatDownMinutes?: number;
  telegram?: { token?: string; chatId: string };
  telegramDisconnect?: true;
}

function toDto(r: Row): NotificationDto {
  return {
    id: r.id,
    kind: r.kind,
    level: r.level,
    title: r.title,
    body: r.body,
    titleText: r.title_key ? { key: r.title_key, params: r.title_params ?? {} } : null,
    bodyText: r.body_key ? { key: r.body_key, params: r.body_params ?? {} } : null,
    ref: r.ref,
    channels: r.channels,
    createdAt: r.created_at.toISOString(),
    read: r.read_at !== null,
    telegram: r.telegram_status ? { status: r.telegram_status, attempts: r.telegram_attempts, error: r.telegram_error, errorKey: r.telegram_error_key, errorParams: r.telegram_error_params, nextAttemptAt: r.telegram_status === 'pending' && r.telegram_next_at ? r.telegram_next_at.toISOString() : null } : null,
  };
}

/** The system's language (the core's side of "follow the system"): LC_ALL / LC_MESSAGES / LANG, else Intl's. */
const systemLocale = (): string => process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || Intl.DateTimeFormat().resolvedOptions().locale;

/** `••••AbCd`: the last 4 characters of the token. */
const maskToken = (t: string): string => `••••${t.slice(-4)}`;
const fmt = (v: unknown): string => (v === null || v === undefined ? '?' : typeof v === 'object' && v !== null && 'toFixed' in v ? (v as { toFixed(): string }).toFixed() : String(v));
/** A message by key (the notifications area of the catalogue). */
const msg = (key: MessageKey, params: Record<string, unknown> = {}): Text => ({ key, params: wireParams(params) });
/** A sentence another domain stored by key (NULL key: an older row, worded by its stored English instead). */
const keyed = (key: string | null | undefined, params: Params | null | undefined): Text | null => (key && hasKey(key) ? { key, params: params ?? {} } : null);

/** A stored notification in a language: its keys when it has them, its English text otherwise. */
export function wordNotification(locale: Locale, r: { title: string; body: string; title_key: string | null; title_params: Params | null; body_key: string | null; body_params: Params | null }): { title: string; body: string } {
  return {
    title: r.title_key ? translate(locale, r.title_key, r.title_params ?? undefined) : r.title,
    body: r.body_key ? translate(locale, r.body_key, r.body_params ?? undefined) : r.body,
  };
}

/**
 * The one notification service. Fed by the EventBus (it never changes another service: it reads
 * what an event points at), it stores each notification, emits `notifications.new` (the bell, the
 * desktop notification of either shell) and queues Telegram messages in the same row: a background
 * sender delivers them rate-limited, with backoff, never in the emitter's path, so trading never
 * waits for Telegram.
 */
export class NotificationService {
  private readonly cfg: NotifyConfig;
  private readonly telegram: TelegramClient;
  private off: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private stopped = true;
  /** The heartbeat's current outage: since when it is running but not connected. */
  private heartbeatDownSince: number | null = null;
  /** Last state notified per bot activation (an error is notified once until it changes). */
  private readonly activationNotified = new Map<string, string>();
  private readonly lastSentToChat = new Map<string, number>();

  constructor(
    private readonly d: {
      db: Database;
      bus: EventBus;
      log: Logger;
      secrets: { store: SecretStore | null; message: string; text?: Text };
      telegram?: TelegramClient;
      config?: Partial<NotifyConfig>;
      /** The heartbeat's current state, read at each tick (a status emitted before this service subscribed is not missed). */
      heartbeat?: () => { running: boolean; connected: boolean };
    },
  ) {
    this.cfg = { ...DEFAULT_NOTIFY_CONFIG, ...d.config };
    this.telegram = d.telegram ?? new TelegramClient();
  }

  start(): void {
    this.stopped = false;
    this.off = this.d.bus.on((e) => this.onEvent(e));
    if (this.cfg.tickMs > 0) {
      this.timer = setInterval(() => this.tick(), this.cfg.tickMs);
      this.timer.unref();
    }
    // messages an earlier run left pending
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.off = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }

  /** Waits until every derivation and the Telegram sender are done (tests). */
  async idle(): Promise<void> {
    while (this.inflight.size || this.draining) {
      await Promise.allSettled([...this.inflight, this.draining]);
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.d.log.warn({ err: (e as Error).message }, 'notification not made'));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  /** One pass: the heartbeat outage, then the Telegram queue (the timer; tests call it with a moved clock). */
  tick(): void {
    if (this.stopped) return;
    this.track(this.checkHeartbeat());
    this.kick();
  }

  // ── events → notifications ────────────────────────────────────────────────────────────────────

  private onEvent(e: BusEvent): void {
    if (this.stopped) return;
    const p = e.profileId;
    switch (e.event) {
      case 'orders.updated': {
        const data = e.data as { orderIds: string[] };
        if (p && data.orderIds.length) this.track(this.fromOrders(p, data.orderIds));
        break;
      }
      case 'webhooks.received': {
        const data = e.data as { requestId: string; status: string };
        if (p && data.status === 'rejected') this.track(this.fromWebhookRequest(p, data.requestId));
        break;
      }
      case 'webhooks.updated': {
        const data = e.data as { kind: 'request' | 'position' | 'senders'; id: string | null };
        if (!p) break;
        if (data.kind === 'request' && data.id) this.track(this.fromWebhookRequest(p, data.id));
        if (data.kind === 'position' && data.id) this.track(this.fromWebhookPosition(p, data.id));
        if (data.kind === 'senders') this.track(this.fromSenders(p));
        break;
      }
      case 'bot.updated': {
        const data = e.data as { id: string; state: string; reason: string | null; reasonKey?: string | null; reasonParams?: Params | null };
        if (p) this.track(this.fromActivation(p, data));
        break;
      }
      case 'bot.decision': {
        const data = e.data as { id: string; activationId: string; kind: string; status: string; reason: string; error: string | null; reasonKey?: string | null; reasonParams?: Params | null; errorKey?: string | null; errorParams?: Params | null };
        if (p && (data.kind === 'stop_loss' || data.kind === 'take_profit') && data.status !== 'pending') this.track(this.fromBotStop(p, data));
        break;
      }
      case 'engine.changed': {
        const data = e.data as { running: boolean; live: number };
        if (p) {
          this.track(
            this.notify(p, {
              kind: 'engine_switched',
              level: data.running ? 'success' : 'warning',
              title: msg(data.running ? 'core.notify.engineOn' : 'core.notify.engineOff'),
              body: data.running ? msg('core.notify.engineOnBody', { count: data.live }) : msg('core.notify.engineOffBody'),
            }),
          );
        }
        break;
      }
      case 'backtests.done': {
        const data = e.data as { runId: string; status: string; error: string | null; errorKey?: string | null; errorParams?: Params | null };
        if (p && data.status !== 'running') this.track(this.fromBacktest(p, data));
        break;
      }
      case 'heartbeat.status': {
        this.noteHeartbeat(e.data as { running: boolean; connected: boolean });
        break;
      }
      default:
        break;
    }
  }

  private async fromOrders(profileId: string, ids: string[]): Promise<void> {
    type O = { id: string; status: string; side: string; type: string; symbol: string; source: string; filled: unknown; amount: unknown; requested_amount: unknown; requested_cost: unknown; average_price: unknown; price: unknown; error_message: string | null; error_key: string | null; error_params: Params | null };
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<O>(
        `SELECT id, status, side, type, symbol, source, filled, amount, requested_amount, requested_cost, average_price, price, error_message, error_key, error_params FROM orders
          WHERE id = ANY($1) AND status IN ('filled', 'rejected') AND COALESCE(closed_at, updated_at) > now() - interval '1 hour'`,
        [ids],
      ),
    );
    for (const o of rows) {
      const buy = o.side === 'buy';
      if (o.status === 'filled') {
        await this.notify(profileId, { kind: 'order_filled', level: 'success', title: msg('core.notify.orderFilled', { symbol: o.symbol }), body: msg(buy ? 'core.notify.filledBuy' : 'core.notify.filledSell', { amount: fmt(o.filled), symbol: o.symbol, price: fmt(o.average_price ?? o.price), type: o.type, source: o.source }), ref: o.id, dedupeKey: `order_filled:${o.id}` });
      } else {
        const size = o.amount ?? o.requested_amount;
        const reason = keyed(o.error_key, o.error_params) ?? o.error_message ?? msg('core.notify.refused');
        const body = size === null && o.requested_cost ? msg(buy ? 'core.notify.refusedBuyCost' : 'core.notify.refusedSellCost', { cost: fmt(o.requested_cost), symbol: o.symbol, type: o.type, source: o.source, reason }) : msg(buy ? 'core.notify.refusedBuy' : 'core.notify.refusedSell', { amount: fmt(size), symbol: o.symbol, type: o.type, source: o.source, reason });
        await this.notify(profileId, { kind: 'order_refused', level: 'danger', title: msg('core.notify.orderRefused', { symbol: o.symbol }), body, ref: o.id, dedupeKey: `order_refused:${o.id}` });
      }
    }
  }

  private async fromWebhookRequest(profileId: string, requestId: string): Promise<void> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ status: string; action: string | null; symbol: string | null; reason: string | null; reason_key: string | null; reason_params: Params | null; http_status: number }>('SELECT status, action, symbol, reason, reason_key, reason_params, http_status FROM webhook_requests WHERE id = $1', [requestId]));
    const r = rows[0];
    if (!r || r.status !== 'rejected') return;
    const what = [r.action, r.symbol].filter(Boolean).join(' ') || msg('core.notify.aWebhook');
    await this.notify(profileId, { kind: 'webhook_refused', level: 'danger', title: msg('core.notify.webhookRefused'), body: msg('core.notify.webhookRefusedBody', { what, reason: keyed(r.reason_key, r.reason_params) ?? r.reason ?? `HTTP ${r.http_status}` }), ref: requestId, dedupeKey: `webhook_refused:${requestId}` });
  }

  private async fromWebhookPosition(profileId: string, positionId: string): Promise<void> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ symbol: string; exit_order_id: string | null; exit_reason: string | null; exit_reason_key: string | null; exit_reason_params: Params | null }>('SELECT symbol, exit_order_id, exit_reason, exit_reason_key, exit_reason_params FROM webhook_positions WHERE id = $1', [positionId]));
    const r = rows[0];
    if (!r?.exit_order_id) return;
    const failed = /failed/i.test(r.exit_reason ?? '');
    await this.notify(profileId, { kind: 'sltp_executed', level: failed ? 'danger' : 'warning', title: msg('core.notify.sltpWebhook', { symbol: r.symbol }), body: keyed(r.exit_reason_key, r.exit_reason_params) ?? (r.exit_reason ? msg('errors.external', { reason: r.exit_reason }) : msg('core.notify.positionClosed')), ref: r.exit_order_id, dedupeKey: `sltp:webhook:${r.exit_order_id}` });
  }

  private async fromSenders(profileId: string): Promise<void> {
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<{ name: string; last_ping_at: Date; expect_minutes: number }>("SELECT name, last_ping_at, expect_minutes FROM webhook_senders WHERE expect_minutes IS NOT NULL AND last_ping_at + expect_minutes * interval '1 minute' < now()"),
    );
    for (const s of rows) {
      await this.notify(profileId, {
        kind: 'ping_missed',
        level: 'danger',
        title: msg('core.notify.pingMissed', { name: s.name }),
        body: msg('core.notify.pingMissedBody', { name: s.name, minutes: s.expect_minutes, at: s.last_ping_at.toISOString() }),
        ref: s.name,
        dedupeKey: `ping_missed:${s.name}:${s.last_ping_at.getTime()}`,
      });
    }
  }

  private async fromActivation(profileId: string, a: { id: string; state: string; reason: string | null; reasonKey?: string | null; reasonParams?: Params | null }): Promise<void> {
    if (a.state !== 'error' && a.state !== 'suspended') {
      this.activationNotified.delete(a.id);
      return;
    }
    const key = `${a.state}\n${a.reason ?? ''}`;
    if (this.activationNotified.get(a.id) === key) return;
    this.activationNotified.set(a.id, key);
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ strategy_name: string; symbol: string; timeframe: string }>('SELECT strategy_name, symbol, timeframe FROM bot_activations WHERE id = $1', [a.id]));
    const name = rows[0] ? msg('core.notify.activationName', { strategy: rows[0].strategy_name, symbol: rows[0].symbol, timeframe: rows[0].timeframe }) : msg('core.notify.anActivation');
    // the bot's state reason by its key when it has one (worded in the profile's language)
    const body = a.reasonKey ? { key: a.reasonKey, params: a.reasonParams ?? {} } : a.reason ? msg('errors.external', { reason: a.reason }) : msg(a.state === 'error' ? 'core.notify.activationErrorBody' : 'core.notify.activationSuspendedBody');
    await this.notify(profileId, { kind: 'activation_error', level: 'danger', title: msg(a.state === 'error' ? 'core.notify.activationError' : 'core.notify.activationSuspended', { name }), body, ref: a.id });
  }

  private async fromBotStop(
    profileId: string,
    d: { id: string; activationId: string; kind: string; status: string; reason: string; error: string | null; reasonKey?: string | null; reasonParams?: Params | null; errorKey?: string | null; errorParams?: Params | null },
  ): Promise<void> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ strategy_name: string; symbol: string }>('SELECT strategy_name, symbol FROM bot_activations WHERE id = $1', [d.activationId]));
    const sl = d.kind === 'stop_loss';
    const title = rows[0] ? msg(sl ? 'core.notify.stopLossBot' : 'core.notify.takeProfitBot', { symbol: rows[0].symbol, strategy: rows[0].strategy_name }) : msg(sl ? 'core.notify.stopLoss' : 'core.notify.takeProfit');
    const reason = d.reasonKey ? { key: d.reasonKey, params: d.reasonParams ?? {} } : d.reason;
    const error = d.errorKey ? { key: d.errorKey, params: d.errorParams ?? {} } : (d.error ?? 'error');
    const body = d.status === 'error' ? msg('core.notify.saleFailed', { reason, error }) : msg('core.notify.sold', { reason });
    await this.notify(profileId, { kind: 'sltp_executed', level: d.status === 'error' ? 'danger' : 'warning', title, body, ref: d.activationId, dedupeKey: `sltp:bot:${d.id}` });
  }

  private async fromBacktest(profileId: string, d: { runId: string; status: string; error: string | null; errorKey?: string | null; errorParams?: Params | null }): Promise<void> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ strategy_name: string | null; symbol: string; timeframe: string; metrics: Record<string, unknown> | null }>('SELECT strategy_name, symbol, timeframe, metrics FROM backtest_runs WHERE id = $1', [d.runId]));
    const r = rows[0];
    const what = r ? msg('core.notify.backtestWhat', { strategy: r.strategy_name ?? msg('core.notify.aStrategy'), symbol: r.symbol, timeframe: r.timeframe }) : msg('core.notify.aBacktest');
    const ret = r?.metrics && typeof r.metrics.returnPct === 'number' ? r.metrics.returnPct.toFixed(2) : null;
    const body = d.status === 'done' ? (ret !== null ? msg('core.notify.backtestReturn', { ret }) : msg('core.notify.backtestDone')) : d.status === 'cancelled' ? msg('core.notify.backtestCancelledBody') : msg('core.notify.backtestFailedBody', { reason: d.errorKey ? { key: d.errorKey, params: d.errorParams ?? {} } : (d.error ?? 'error') });
    const title = d.status === 'done' ? 'core.notify.backtestFinished' : d.status === 'cancelled' ? 'core.notify.backtestCancelled' : d.status === 'failed' ? 'core.notify.backtestFailed' : 'core.notify.backtestOther';
    await this.notify(profileId, { kind: 'backtest_finished', level: d.status === 'done' ? 'success' : d.status === 'failed' ? 'danger' : 'info', title: msg(title, { what, status: d.status }), body, ref: d.runId, dedupeKey: `backtest:${d.runId}` });
  }

  private noteHeartbeat(s: { running: boolean; connected: boolean }): void {
    if (s.running && !s.connected) this.heartbeatDownSince ??= this.cfg.now();
    else this.heartbeatDownSince = null;
  }

  private async checkHeartbeat(): Promise<void> {
    if (this.d.heartbeat) this.noteHeartbeat(this.d.heartbeat());
    const since = this.heartbeatDownSince;
    if (since === null) return;
    const downMs = this.cfg.now() - since;
    const { rows: profiles } = await this.d.db.query<{ id: string }>('SELECT id FROM profiles');
    for (const { id } of profiles) {
      const s = await this.settingsRow(id);
      if (downMs < s.heartbeat_down_minutes * 60_000) continue;
      await this.notify(id, {
        kind: 'heartbeat_down',
        level: 'danger',
        title: msg('core.notify.heartbeatDown'),
        body: msg('core.notify.heartbeatDownBody', { minutes: Math.floor(downMs / 60_000), since: new Date(since).toISOString() }),
        dedupeKey: `heartbeat_down:${since}`,
      });
    }
  }

  // ── storing and routing ───────────────────────────────────────────────────────────────────────

  /** Stores one notification routed per the profile's settings, emits it, queues it for Telegram. Null when not routed anywhere or already made. */
  async notify(profileId: string, n: NotifyInput): Promise<NotificationDto | null> {
    const s = await this.settingsRow(profileId);
    const channels = n.channels ?? (n.kind === 'test' ? ['in_app' as const] : routesOf(s)[n.kind]);
    if (!channels.length) return null;
    const tg = channels.includes('telegram');
    const tgReady = s.telegram_secret_ref !== null && s.telegram_chat_id !== null;
    const notSetUp: Text | null = tg && !tgReady ? { key: 'coreLast.telegram.notSetUp' } : null;
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<Row>(
        `INSERT INTO notifications (kind, level, title, body, ref, dedupe_key, channels, read_at, telegram_status, telegram_next_at, telegram_error, title_key, title_params, body_key, body_params, telegram_error_key, telegram_error_params)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN NULL ELSE now() END, $9, CASE WHEN $9 = 'pending' THEN now() END, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (profile_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING *`,
        [n.kind, n.level, translate('en', n.title.key, n.title.params).slice(0, 300), translate('en', n.body.key, n.body.params).slice(0, 2000), n.ref ?? null, n.dedupeKey ?? null, channels, channels.includes('in_app'), tg ? (tgReady ? 'pending' : 'failed') : null, notSetUp ? translate('en', notSetUp.key) : null, n.title.key, n.title.params ?? {}, n.body.key, n.body.params ?? {}, notSetUp?.key ?? null, notSetUp ? {} : null],
      ),
    );
    const row = rows[0];
    if (!row) return null;
    const dto = toDto(row);
    this.d.bus.emit('notifications.new', dto, { profileId });
    if (tg && tgReady) this.kick();
    return dto;
  }

  async list(profileId: string, o: { limit?: number; unreadOnly?: boolean } = {}): Promise<{ items: NotificationDto[]; unread: number; pendingTelegram: number }> {
    return this.d.db.withProfile(profileId, async (c) => {
      const { rows } = await c.query<Row>(`SELECT * FROM notifications ${o.unreadOnly ? 'WHERE read_at IS NULL' : ''} ORDER BY created_at DESC, id DESC LIMIT $1`, [o.limit ?? 50]);
      return { items: rows.map(toDto), ...(await counts(c)) };
    });
  }

  async markRead(profileId: string, which: { ids: string[] } | { all: true }): Promise<{ unread: number }> {
    const out = await this.d.db.withProfile(profileId, async (c) => {
      if ('all' in which) await c.query('UPDATE notifications SET read_at = now() WHERE read_at IS NULL');
      else await c.query('UPDATE notifications SET read_at = now() WHERE read_at IS NULL AND id = ANY($1)', [which.ids]);
      return counts(c);
    });
    this.d.bus.emit('notifications.changed', out, { profileId });
    return { unread: out.unread };
  }

  // ── Telegram queue ────────────────────────────────────────────────────────────────────────────

  /** Starts the sender unless it runs (then it makes one more pass). Never awaited by the caller. */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = (async () => {
      do {
        this.drainAgain = false;
        await this.drain().catch((e: unknown) => this.d.log.warn({ err: (e as Error).message }, 'telegram queue pass failed'));
      } while (this.drainAgain && !this.stopped);
    })().finally(() => (this.draining = null));
  }

  private async drain(): Promise<void> {
    const { rows: profiles } = await this.d.db.query<{ id: string }>('SELECT id FROM profiles');
    for (const { id: profileId } of profiles) {
      for (;;) {
        if (this.stopped) return;
        const { rows } = await this.d.db.withProfile(profileId, (c) =>
          c.query<Row>("SELECT * FROM notifications WHERE telegram_status = 'pending' AND telegram_next_at <= $1 ORDER BY created_at, id LIMIT 20", [new Date(this.cfg.now())]),
        );
        if (!rows.length) break;
        const s = await this.settingsRow(profileId);
        const locale = await this.profileLocale(profileId);
        let token: string | null = null;
        if (s.telegram_secret_ref && s.telegram_chat_id && this.d.secrets.store) token = await this.d.secrets.store.get(s.telegram_secret_ref);
        let blocked = false;
        for (const r of rows) {
          if (!token || !s.telegram_chat_id) {
            await this.setTelegram(profileId, r.id, 'failed', r.telegram_attempts, null, { key: 'coreLast.telegram.tokenMissing' });
            continue;
          }
          await this.pace(s.telegram_chat_id);
          try {
            const w = wordNotification(locale, r);
            await this.telegram.sendMessage(token, s.telegram_chat_id, `${w.title}\n${w.body}`);
            this.lastSentToChat.set(s.telegram_chat_id, this.cfg.now());
            await this.setTelegram(profileId, r.id, 'sent', r.telegram_attempts + 1, null, null);
          } catch (e) {
            const err = e instanceof TelegramError ? e : new TelegramError('network', 'coreRest.telegram.unreachable');
            const attempts = r.telegram_attempts + 1;
            if (err.retryable) {
              const wait = err.retryAfterMs ?? Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(attempts - 1, 20));
              await this.setTelegram(profileId, r.id, 'pending', attempts, new Date(this.cfg.now() + wait), err.text);
              this.d.log.warn({ notification: r.id, attempts, retryInMs: wait, err: err.message }, 'telegram message queued for a retry');
              // Telegram is down or throttling: everything else waits for the next pass
              blocked = true;
              break;
            }
            await this.setTelegram(profileId, r.id, 'failed', attempts, null, err.text);
            this.d.log.warn({ notification: r.id, err: err.message }, 'telegram message refused');
          }
        }
        if (blocked) return;
      }
    }
  }

  /**
   * The language messages leave the app in (Telegram, the test message): the profile's choice; with
   * none (it follows the system's), the core's system language (LANG / Intl), English otherwise.
   */
  async profileLocale(profileId: string): Promise<Locale> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<{ language: string | null }>('SELECT language FROM profile_settings LIMIT 1'));
    return pickLocale(rows[0]?.language ?? systemLocale());
  }

  private async pace(chatId: string): Promise<void> {
    const last = this.lastSentToChat.get(chatId);
    if (last === undefined) return;
    const wait = last + this.cfg.telegramMinIntervalMs - this.cfg.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** `error` by key: stored in English (`telegram_error`) with its key and parameters beside it. */
  private async setTelegram(profileId: string, id: string, status: 'pending' | 'sent' | 'failed', attempts: number, nextAt: Date | null, error: Text | null): Promise<void> {
    const out = await this.d.db.withProfile(profileId, async (c) => {
      await c.query(
        `UPDATE notifications SET telegram_status = $2, telegram_attempts = $3, telegram_next_at = $4, telegram_error = $5, telegram_error_key = $6, telegram_error_params = $7, telegram_sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1`,
        [id, status, attempts, nextAt, error ? translate('en', error.key, error.params) : null, error?.key ?? null, error ? (error.params ?? {}) : null],
      );
      return counts(c);
    });
    this.d.bus.emit('notifications.changed', out, { profileId });
  }

  // ── settings ──────────────────────────────────────────────────────────────────────────────────

  private async settingsRow(profileId: string): Promise<SettingsRow> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<SettingsRow>('SELECT routes, heartbeat_down_minutes, telegram_secret_ref, telegram_token_hint, telegram_bot_username, telegram_chat_id FROM notification_settings'));
    return rows[0] ?? DEFAULT_SETTINGS;
  }

  private view(s: SettingsRow): NotificationSettingsDto {
    return {
      routes: routesOf(s),
      heartbeatDownMinutes: s.heartbeat_down_minutes,
      telegram: { configured: s.telegram_secret_ref !== null, tokenHint: s.telegram_token_hint, botUsername: s.telegram_bot_username, chatId: s.telegram_chat_id },
    };
  }

  async getSettings(profileId: string): Promise<NotificationSettingsDto> {
    return this.view(await this.settingsRow(profileId));
  }

  private store(): SecretStore {
    if (!this.d.secrets.store) throw new AppError('secrets_unavailable', 'errors.secrets.unavailable', { reason: this.d.secrets.text ?? this.d.secrets.message });
    return this.d.secrets.store;
  }

  /**
   * getMe (is the token right?) then sendMessage (is the chat id right?). Says which is wrong as an
   * `invalid_input` issue on `token` or `chatId`; Telegram unreachable is `unavailable`.
   */
  private async verifyTelegram(token: string, chatId: string, locale: Locale): Promise<{ username: string | null }> {
    const fail = (e: unknown, field: 'token' | 'chatId'): never => {
      const err = e instanceof TelegramError ? e : new TelegramError('network', 'coreRest.telegram.unreachable');
      if (err.retryable) throw new AppError('unavailable', 'errors.notifications.nothingWasSavedTry', { reason: err.text }, { retryable: true });
      const path = err.failure === 'token' ? 'token' : err.failure === 'chat' ? 'chatId' : field;
      throw invalidField(path, path === 'token' ? 'errors.notifications.tokenWrong' : 'errors.notifications.chatIdWrong', { reason: err.text });
    };
    const bot = await this.telegram.getMe(token).catch((e: unknown) => fail(e, 'token'));
    await this.telegram.sendMessage(token, chatId, translate(locale, 'core.notify.telegramTest')).catch((e: unknown) => fail(e, 'chatId'));
    return { username: bot.username };
  }

  async updateSettings(profileId: string, patch: SettingsPatch): Promise<NotificationSettingsDto> {
    const cur = await this.settingsRow(profileId);
    const next: SettingsRow = { ...cur, routes: { ...cur.routes } };
    if (patch.heartbeatDownMinutes !== undefined) next.heartbeat_down_minutes = patch.heartbeatDownMinutes;
    if (patch.routes) for (const [k, ch] of Object.entries(patch.routes) as [NotificationKindName, NotificationChannelName[]][]) next.routes[k] = [...new Set(ch)];

    let dropRef: string | null = null;
    let newToken: string | null = null;
    let newRef: string | null = null;
    if (patch.telegramDisconnect) {
      if (patch.telegram) throw invalidField('telegramDisconnect', 'errors.notifications.eitherNewTelegramCredentials');
      dropRef = cur.telegram_secret_ref;
      Object.assign(next, { telegram_secret_ref: null, telegram_token_hint: null, telegram_bot_username: null, telegram_chat_id: null });
      for (const k of NOTIFICATION_KINDS) next.routes[k] = routesOf(next)[k].filter((c) => c !== 'telegram');
    } else if (patch.telegram) {
      let token = patch.telegram.token ?? null;
      if (!token) {
        if (!cur.telegram_secret_ref) throw invalidField('telegram.token', 'errors.notifications.enterBotTokenFrom');
        token = await this.store().get(cur.telegram_secret_ref);
        if (!token) throw invalidField('telegram.token', 'errors.notifications.storedBotTokenMissing');
      } else {
        newToken = token;
      }
      this.store(); // no secret store: say so before calling Telegram
      const { username } = await this.verifyTelegram(token, patch.telegram.chatId, await this.profileLocale(profileId));
      next.telegram_chat_id = patch.telegram.chatId;
      next.telegram_bot_username = username;
      if (newToken) {
        next.telegram_token_hint = maskToken(newToken);
        next.telegram_secret_ref = cur.telegram_secret_ref ?? (newRef = newSecretRef());
      }
    }
    const telegramRouted = NOTIFICATION_KINDS.some((k) => routesOf(next)[k].includes('telegram'));
    if (telegramRouted && !next.telegram_secret_ref) {
      throw invalidField('routes', 'errors.notifications.setUpTelegramFirst');
    }

    // The token reaches the SecretStore before the row names it; restored if the row cannot be written.
    let previous: string | null = null;
    if (newToken) {
      const s = this.store();
      if (!newRef) previous = await s.get(next.telegram_secret_ref!);
      await s.set(next.telegram_secret_ref!, newToken);
    }
    try {
      await this.d.db.withProfile(profileId, async (c) => {
        await c.query(
          `INSERT INTO notification_settings (routes, heartbeat_down_minutes, telegram_secret_ref, telegram_token_hint, telegram_bot_username, telegram_chat_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (profile_id) DO UPDATE SET routes = $1, heartbeat_down_minutes = $2, telegram_secret_ref = $3, telegram_token_hint = $4, telegram_bot_username = $5, telegram_chat_id = $6, updated_at = now()`,
          [JSON.stringify(next.routes), next.heartbeat_down_minutes, next.telegram_secret_ref, next.telegram_token_hint, next.telegram_bot_username, next.telegram_chat_id],
        );
        if (patch.telegramDisconnect) await c.query("UPDATE notifications SET telegram_status = 'failed', telegram_error = $1, telegram_error_key = $2, telegram_error_params = '{}' WHERE telegram_status = 'pending'", [translate('en', 'coreLast.telegram.disconnected'), 'coreLast.telegram.disconnected']);
      });
    } catch (e) {
      if (newToken) {
        const s = this.store();
        await (newRef || previous === null ? s.delete(next.telegram_secret_ref!) : s.set(next.telegram_secret_ref!, previous)).catch((err: Error) => this.d.log.warn({ err: err.message }, 'could not restore the Telegram token after a failed settings update'));
      }
      throw e;
    }
    if (dropRef) await this.d.secrets.store?.delete(dropRef).catch((e: Error) => this.d.log.warn({ err: e.message }, 'could not delete the Telegram token from the secret store'));
    // pending messages may now go out (new chat id, or a token that works again)
    if (patch.telegram) this.kick();
    return this.view(next);
  }

  /** The test button of each channel. Telegram with credentials: verified, then saved. */
  async test(profileId: string, input: { channel: NotificationChannelName; token?: string; chatId?: string }): Promise<{ ok: true; channel: NotificationChannelName; notificationId: string | null; saved: boolean }> {
    if (input.channel === 'telegram') {
      if (input.token !== undefined || input.chatId !== undefined) {
        if (!input.chatId) throw invalidField('chatId', 'errors.notifications.enterChatIdWith');
        await this.updateSettings(profileId, { telegram: { token: input.token, chatId: input.chatId } });
        return { ok: true, channel: 'telegram', notificationId: null, saved: true };
      }
      const s = await this.settingsRow(profileId);
      if (!s.telegram_secret_ref || !s.telegram_chat_id) throw invalidField('token', 'errors.notifications.telegramNotSetUp');
      const token = await this.store().get(s.telegram_secret_ref);
      if (!token) throw invalidField('token', 'errors.notifications.storedBotTokenMissing');
      await this.verifyTelegram(token, s.telegram_chat_id, await this.profileLocale(profileId));
      return { ok: true, channel: 'telegram', notificationId: null, saved: false };
    }
    const n = await this.notify(profileId, { kind: 'test', level: 'info', title: msg('core.notify.test'), body: msg(input.channel === 'desktop' ? 'core.notify.testDesktop' : 'core.notify.testInApp'), channels: [input.channel] });
    return { ok: true, channel: input.channel, notificationId: n?.id ?? null, saved: false };
  }

  /** Profile deletion: the token leaves the SecretStore once the profile's rows are gone. */
  async prepareProfileDeletion(profileId: string): Promise<() => Promise<void>> {
    const s = await this.settingsRow(profileId);
    return async () => {
      if (s.telegram_secret_ref) await this.d.secrets.store?.delete(s.telegram_secret_ref).catch((e: Error) => this.d.log.warn({ err: e.message }, 'could not delete a deleted profile’s Telegram token'));
    };
  }
}

function routesOf(s: SettingsRow): Record<NotificationKindName, NotificationChannelName[]> {
  const out = {} as Record<NotificationKindName, NotificationChannelName[]>;
  for (const k of NOTIFICATION_KINDS) out[k] = s.routes[k] ?? DEFAULT_ROUTES[k];
  return out;
}

async function counts(c: PoolClient): Promise<{ unread: number; pendingTelegram: number }> {
  const { rows } = await c.query<{ unread: number; pending: number }>("SELECT count(*) FILTER (WHERE read_at IS NULL)::int AS unread, count(*) FILTER (WHERE telegram_status = 'pending')::int AS pending FROM notifications");
  return { unread: rows[0]!.unread, pendingTelegram: rows[0]!.pending };
}
