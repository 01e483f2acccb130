-- Webhooks: TradingView alerts received by the local listener, journaled before they are answered.

-- Which profile a listener path `/webhook/<token>` belongs to. Readable app-wide (like `profiles`): the
-- listener must find the profile before it knows it. Only a SHA-256 of the token is kept here; the
-- token itself (to show the URL) sits in the profile's own row of `webhook_settings`.
CREATE TABLE webhook_routes (
  token_hash text PRIMARY KEY,
  profile_id uuid NOT NULL UNIQUE REFERENCES profiles (id) ON DELETE CASCADE
);
-- Rows are written only by their own profile (the tenancy policy); every row can be read, because the
-- listener looks the token up before it knows the profile (a second, read-only policy).
SELECT aristobot_enable_tenancy('webhook_routes');
CREATE POLICY route_lookup ON webhook_routes FOR SELECT USING (true);

-- The profile's webhook token and secret. The secret's value lives in the SecretStore
-- (`secret_ref`); the database keeps its SHA-256 only, which the listener compares in constant time.
CREATE TABLE webhook_settings (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  token text NOT NULL,
  secret_ref text NOT NULL,
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('webhook_settings');

-- Every request received on a profile's path, accepted or refused, written before the answer.
-- The secret's value is never stored (the payload keeps "secret": "•••").
CREATE TABLE webhook_requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  received_at timestamptz NOT NULL DEFAULT now(),
  sender_ip text,
  content_type text,
  -- the alert's `id` as sent; `dedupe_key` is set on accepted alerts only (one per id and profile)
  alert_id text,
  dedupe_key text,
  action text,
  symbol text,
  -- the market it resolved to (e.g. BTC/USDT)
  market text,
  broker_id uuid REFERENCES brokers (id) ON DELETE SET NULL,
  broker_name text,
  sender text,
  payload jsonb,
  -- the body as received (secret removed, at most 4 KB) when it was not valid JSON
  raw text,
  http_status integer NOT NULL,
  status text NOT NULL CHECK (status IN ('received', 'processing', 'processed', 'rejected', 'error', 'duplicate')),
  reason text,
  order_id uuid REFERENCES orders (id) ON DELETE SET NULL,
  processed_at timestamptz
);
CREATE UNIQUE INDEX webhook_requests_dedupe ON webhook_requests (profile_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX webhook_requests_time ON webhook_requests (profile_id, received_at DESC);
CREATE INDEX webhook_requests_pending ON webhook_requests (profile_id, status) WHERE status IN ('received', 'processing');
SELECT aristobot_enable_tenancy('webhook_requests');

-- Senders that PING: when the last one arrived and how often one is expected.
CREATE TABLE webhook_senders (
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  name text NOT NULL,
  last_ping_at timestamptz NOT NULL,
  last_ip text,
  expect_minutes integer CHECK (expect_minutes IS NULL OR expect_minutes > 0),
  pings integer NOT NULL DEFAULT 1,
  PRIMARY KEY (profile_id, name)
);
SELECT aristobot_enable_tenancy('webhook_senders');

-- The webhook book: positions opened by webhooks, kept apart from manual ones. Quantity, entry and
-- realised P&L are computed (FIFO) from the fills of the webhook's own orders on that broker, mode
-- and symbol; stop-loss and take-profit are set by the alerts (and moved by MAJ).
CREATE TABLE webhook_positions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  base text NOT NULL,
  quote text NOT NULL,
  quantity numeric NOT NULL DEFAULT 0,
  average_entry numeric,
  realised_pnl numeric NOT NULL DEFAULT 0,
  stop_loss numeric,
  take_profit numeric,
  -- how SL/TP are enforced: 'watched' (the app watches the price and sells at market)
  protection text NOT NULL DEFAULT 'watched' CHECK (protection IN ('native', 'watched')),
  -- a stop-loss / take-profit sale under way or done (its journal row)
  exit_order_id uuid REFERENCES orders (id) ON DELETE SET NULL,
  exit_reason text,
  -- bumped each time the position is opened again from flat (exit client order ids include it)
  generation integer NOT NULL DEFAULT 1,
  fills integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (profile_id, broker_id, sandbox, symbol)
);
SELECT aristobot_enable_tenancy('webhook_positions');
