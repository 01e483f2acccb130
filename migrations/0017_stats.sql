-- Statistics: the profile's valuation currency, what each account held when first seen (the opening
-- book), equity snapshots, deposits and withdrawals, and the P&L ledger (round-trip trades and open
-- lots per book) materialised from the fills so PostgreSQL does the grouping.

CREATE TABLE stats_settings (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  -- every valuation (equity, P&L of markets quoted elsewhere) is in this currency
  currency text NOT NULL DEFAULT 'USDT' CHECK (currency ~ '^[A-Z0-9]{2,12}$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('stats_settings');

-- Each broker's balances valued in the profile's currency: at start, hourly and after every fill.
-- `balances`: {"BTC": {"total": "0.5", "price": "60000", "value": "30000"}, …} (price/value null when
-- no market prices the asset); `missing` names those assets (the value leaves them out, never as 0).
-- `flow_value`: deposits − withdrawals found since the previous snapshot, valued (see stats_flows).
CREATE TABLE equity_snapshots (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  reason text NOT NULL CHECK (reason IN ('start', 'hourly', 'fill', 'manual')),
  currency text NOT NULL,
  value numeric NOT NULL,
  balances jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(balances) = 'object'),
  missing text[] NOT NULL DEFAULT '{}',
  flow_value numeric NOT NULL DEFAULT 0
);
CREATE INDEX equity_snapshots_time ON equity_snapshots (profile_id, broker_id, sandbox, taken_at);
CREATE INDEX equity_snapshots_profile_time ON equity_snapshots (profile_id, taken_at);
SELECT aristobot_enable_tenancy('equity_snapshots');

-- Deposits (amount > 0) and withdrawals (< 0): from the exchange's history where CCXT has it
-- ('exchange', its id), else from a balance change the fills recorded in between do not explain.
CREATE TABLE stats_flows (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  asset text NOT NULL,
  amount numeric NOT NULL CHECK (amount <> 0),
  -- in `currency` at the time; null when the asset could not be priced
  value numeric,
  currency text NOT NULL,
  at timestamptz NOT NULL,
  origin text NOT NULL CHECK (origin IN ('balance', 'exchange')),
  external_id text,
  snapshot_id bigint REFERENCES equity_snapshots (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX stats_flows_external ON stats_flows (broker_id, sandbox, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX stats_flows_time ON stats_flows (profile_id, broker_id, at);
SELECT aristobot_enable_tenancy('stats_flows');

-- The opening book: what an account held when the app first took its snapshot, less what the fills
-- recorded before then had bought (coins the app saw bought are not opening coins), valued then.
CREATE TABLE stats_openings (
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  asset text NOT NULL,
  quantity numeric NOT NULL CHECK (quantity > 0),
  price numeric,
  currency text NOT NULL,
  seen_at timestamptz NOT NULL,
  PRIMARY KEY (profile_id, broker_id, sandbox, asset)
);
SELECT aristobot_enable_tenancy('stats_openings');

-- Round-trip trades: a closing order's fills against the lots of one book (electron/stats/ledger.ts),
-- rebuilt for the account whenever its fills change. Amounts in the market's quote currency; `*_value`
-- in the profile's currency (null when no price converts the quote currency).
CREATE TABLE stats_trades (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  key text NOT NULL,
  closing_order_id uuid,
  symbol text NOT NULL,
  base text NOT NULL,
  quote text NOT NULL,
  source text NOT NULL CHECK (source IN ('manual', 'strategy', 'webhook', 'external', 'opening')),
  ref text,
  book text NOT NULL,
  book_label text NOT NULL,
  opened_at timestamptz NOT NULL,
  closed_at timestamptz NOT NULL,
  amount numeric NOT NULL,
  entry_price numeric NOT NULL,
  exit_price numeric NOT NULL,
  cost numeric NOT NULL,
  proceeds numeric NOT NULL,
  fees numeric NOT NULL,
  pnl numeric NOT NULL,
  pnl_pct numeric,
  from_opening numeric NOT NULL DEFAULT 0,
  unmatched numeric NOT NULL DEFAULT 0,
  currency text NOT NULL,
  pnl_value numeric,
  fees_value numeric,
  UNIQUE (broker_id, sandbox, key)
);
CREATE INDEX stats_trades_time ON stats_trades (profile_id, closed_at);
CREATE INDEX stats_trades_broker_time ON stats_trades (profile_id, broker_id, closed_at);
SELECT aristobot_enable_tenancy('stats_trades');

-- Lots still open per book (for unrealised P&L at the latest snapshot's prices).
CREATE TABLE stats_lots (
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  sandbox boolean NOT NULL,
  symbol text NOT NULL,
  base text NOT NULL,
  quote text NOT NULL,
  source text NOT NULL,
  ref text,
  book text NOT NULL,
  book_label text NOT NULL,
  quantity numeric NOT NULL CHECK (quantity > 0),
  unit_cost numeric NOT NULL,
  opened_at timestamptz NOT NULL
);
CREATE INDEX stats_lots_broker ON stats_lots (profile_id, broker_id, sandbox);
SELECT aristobot_enable_tenancy('stats_lots');

-- Fees in a third currency over a period, per account.
CREATE INDEX order_fills_account_time ON order_fills (profile_id, broker_id, sandbox, executed_at);

-- Positions that went negative (coins held before the app, then sold) are flat: spot never goes short.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT id FROM profiles LOOP
    PERFORM set_config('aristobot.profile_id', p.id::text, true);
    UPDATE positions SET quantity = 0, average_entry = NULL, updated_at = now() WHERE quantity < 0;
  END LOOP;
  PERFORM set_config('aristobot.profile_id', '', true);
END $$;
