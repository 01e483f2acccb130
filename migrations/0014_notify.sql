-- Notifications: one row per notification (the history behind the header's bell), routed per event kind
-- to the channels the profile chose (in-app, desktop, Telegram). The row is also the Telegram queue:
-- `telegram_status` pending → sent | failed, retried with backoff until Telegram answers; nothing is
-- dropped silently (a permanent refusal stays visible as failed with Telegram's reason).
CREATE TABLE notification_settings (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  -- kind → channels, e.g. {"order_filled": ["in_app", "telegram"]}; a kind missing here uses the defaults
  routes jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- the heartbeat must be down this long before it is notified
  heartbeat_down_minutes integer NOT NULL DEFAULT 5 CHECK (heartbeat_down_minutes BETWEEN 1 AND 1440),
  -- the bot token lives in the SecretStore; the row keeps its opaque reference and a masked hint
  telegram_secret_ref text,
  telegram_token_hint text,
  telegram_bot_username text,
  telegram_chat_id text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((telegram_secret_ref IS NULL) = (telegram_chat_id IS NULL))
);
SELECT aristobot_enable_tenancy('notification_settings');

CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('order_filled', 'order_refused', 'sltp_executed', 'activation_error', 'webhook_refused', 'ping_missed', 'heartbeat_down', 'engine_switched', 'backtest_finished', 'test')),
  level text NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'success', 'warning', 'danger')),
  title text NOT NULL,
  body text NOT NULL,
  -- what it is about (an order, an activation, a backtest run…), for the UI's link
  ref text,
  -- the same fact is notified once (an order filled, a request refused…)
  dedupe_key text,
  channels text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  telegram_status text CHECK (telegram_status IN ('pending', 'sent', 'failed')),
  telegram_attempts integer NOT NULL DEFAULT 0,
  telegram_next_at timestamptz,
  telegram_error text,
  telegram_sent_at timestamptz
);
CREATE UNIQUE INDEX notifications_dedupe ON notifications (profile_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX notifications_recent ON notifications (profile_id, created_at DESC);
CREATE INDEX notifications_telegram_pending ON notifications (profile_id, telegram_next_at) WHERE telegram_status = 'pending';
SELECT aristobot_enable_tenancy('notifications');
