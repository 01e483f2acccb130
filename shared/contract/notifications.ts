import { z } from 'zod';
import { method, NoInput } from './define';

/**
 * Notifications: one core service turns the app's events (an order filled, a webhook refused, the
 * heartbeat down…) into notifications, stores each (the bell's history, read/unread), emits
 * `notifications.new`, and routes it per kind to the channels the profile chose: in-app (the bell
 * counts it), desktop (Electron's Notification, or the browser's in the headless shell) and Telegram
 * (queued, rate-limited, retried; shown as pending until delivered).
 */

export const NOTIFICATION_KINDS = ['order_filled', 'order_refused', 'sltp_executed', 'activation_error', 'webhook_refused', 'ping_missed', 'heartbeat_down', 'engine_switched', 'backtest_finished'] as const;
export const NotificationKind = z.enum(NOTIFICATION_KINDS);
export const NotificationChannel = z.enum(['in_app', 'desktop', 'telegram']);
export type NotificationKindName = z.infer<typeof NotificationKind>;
export type NotificationChannelName = z.infer<typeof NotificationChannel>;

/** What each kind is, for the settings table. */
export const NOTIFICATION_KIND_LABELS: Record<NotificationKindName, string> = {
  order_filled: 'Order filled',
  order_refused: 'Order refused',
  sltp_executed: 'Stop-loss / take-profit executed',
  activation_error: 'Bot activation in error or suspended',
  webhook_refused: 'Webhook refused',
  ping_missed: 'Missed PING',
  heartbeat_down: 'Heartbeat down',
  engine_switched: 'Bot engine switched on/off',
  backtest_finished: 'Backtest finished',
};

/** Where a kind goes when the profile never chose. Telegram only once it is set up and chosen. */
export const DEFAULT_ROUTES: Record<NotificationKindName, NotificationChannelName[]> = {
  order_filled: ['in_app', 'desktop'],
  order_refused: ['in_app', 'desktop'],
  sltp_executed: ['in_app', 'desktop'],
  activation_error: ['in_app', 'desktop'],
  webhook_refused: ['in_app'],
  ping_missed: ['in_app', 'desktop'],
  heartbeat_down: ['in_app', 'desktop'],
  engine_switched: ['in_app'],
  backtest_finished: ['in_app'],
};

export const Notification = z.object({
  id: z.string(),
  kind: z.union([NotificationKind, z.literal('test')]),
  level: z.enum(['info', 'success', 'warning', 'danger']),
  title: z.string(),
  body: z.string(),
  /** The title and body as catalogue keys and parameters (worded in the reader's language); null on rows older than them. */
  titleText: z.object({ key: z.string(), params: z.record(z.string(), z.unknown()) }).nullable(),
  bodyText: z.object({ key: z.string(), params: z.record(z.string(), z.unknown()) }).nullable(),
  ref: z.string().nullable(),
  channels: z.array(NotificationChannel),
  createdAt: z.string(),
  read: z.boolean(),
  /**
   * null when not routed to Telegram; pending while queued (Telegram unreachable), failed with Telegram's reason.
   * `error` is English; `errorKey`/`errorParams` the same note by key (null on rows older than them).
   */
  telegram: z
    .object({
      status: z.enum(['pending', 'sent', 'failed']),
      attempts: z.number().int(),
      error: z.string().nullable(),
      errorKey: z.string().nullable().optional(),
      errorParams: z.record(z.string(), z.unknown()).nullable().optional(),
      nextAttemptAt: z.string().nullable(),
    })
    .nullable(),
});

const Routes = z.partialRecord(NotificationKind, z.array(NotificationChannel).max(3));

export const NotificationSettings = z.object({
  /** Every kind with its channels (defaults filled in). */
  routes: z.record(z.string(), z.array(NotificationChannel)),
  heartbeatDownMinutes: z.number().int(),
  telegram: z.object({
    /** True once a token and chat id were verified and saved. The token itself never leaves the core. */
    configured: z.boolean(),
    tokenHint: z.string().nullable(),
    botUsername: z.string().nullable(),
    chatId: z.string().nullable(),
  }),
});

/** A bot token as BotFather gives it: `<bot id>:<35 characters>`. */
const TelegramToken = z.string().trim().regex(/^\d{3,20}:[A-Za-z0-9_-]{30,64}$/, 'a bot token looks like 123456789:AAH… (the bot id, a colon, then about 35 characters), as BotFather gives it');
/** A numeric chat id (negative for groups) or a public channel's @username. */
const TelegramChatId = z.string().trim().regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/, 'a chat id is a number such as 123456789 (negative for a group) or a channel @username');

export const notificationMethods = {
  'notifications.list': method({
    input: z.object({ limit: z.number().int().min(1).max(500).default(50), unreadOnly: z.boolean().default(false) }).strict().optional(),
    output: z.object({ items: z.array(Notification), unread: z.number().int(), pendingTelegram: z.number().int() }),
    auth: 'profile',
    description: 'The latest notifications (newest first), the unread count of the bell and how many wait for Telegram.',
  }),
  'notifications.markRead': method({
    input: z.union([z.object({ ids: z.array(z.string().uuid()).min(1).max(500) }).strict(), z.object({ all: z.literal(true) }).strict()]),
    output: z.object({ unread: z.number().int() }),
    auth: 'profile',
    description: 'Mark these notifications (or all) as read; answers the remaining unread count.',
  }),
  'notifications.settings.get': method({ input: NoInput, output: NotificationSettings, auth: 'profile', description: 'Where each kind of notification goes, the heartbeat delay and the Telegram setup (token masked).' }),
  'notifications.settings.update': method({
    input: z
      .object({
        routes: Routes.optional(),
        heartbeatDownMinutes: z.number().int().min(1, 'at least 1 minute').max(1440, 'at most 1440 minutes (a day)').optional(),
        /** New Telegram credentials: checked with getMe and a sendMessage first; nothing is saved unless both work. */
        telegram: z.object({ token: TelegramToken.optional(), chatId: TelegramChatId }).strict().optional(),
        /** Forget the Telegram setup (the token leaves the SecretStore; pending messages are marked failed). */
        telegramDisconnect: z.literal(true).optional(),
      })
      .strict(),
    output: NotificationSettings,
    auth: 'profile',
    description: 'Change the routes, the heartbeat delay, or the Telegram bot (verified before it is saved).',
  }),
  'notifications.test': method({
    input: z
      .object({
        channel: NotificationChannel,
        /** Telegram only: credentials to check and, when they work, save (the "Send test message" button). */
        token: TelegramToken.optional(),
        chatId: TelegramChatId.optional(),
      })
      .strict(),
    output: z.object({ ok: z.literal(true), channel: NotificationChannel, notificationId: z.string().nullable(), saved: z.boolean() }),
    auth: 'profile',
    description: 'Send a test notification through one channel (Telegram: getMe and sendMessage, saying whether the token or the chat id is wrong).',
  }),
} as const;

export const notificationEvents = {
  'notifications.new': Notification,
  /** Read state or Telegram delivery changed (the bell refreshes). */
  'notifications.changed': z.object({ unread: z.number().int(), pendingTelegram: z.number().int() }),
} as const;

