-- The trading bot: activations (a strategy version running on a broker, symbol and timeframe), each
-- with its own book (position and trades) on the shared account, and the journal of its decisions.
-- Orders themselves are in the order journal (orders, source 'strategy', source_ref = activation id).

CREATE TABLE bot_activations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  -- kept when the strategy is deleted (the activation is history; its version id and code stay known)
  strategy_id uuid REFERENCES strategies (id) ON DELETE SET NULL,
  strategy_name text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  version_id uuid REFERENCES strategy_versions (id) ON DELETE SET NULL,
  params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
  broker_id uuid REFERENCES brokers (id) ON DELETE SET NULL,
  symbol text NOT NULL,
  timeframe text NOT NULL CHECK (timeframe IN ('1m', '3m', '5m', '10m', '15m', '1h', '2h', '4h')),
  starts_at timestamptz,
  ends_at timestamptz,
  -- the most of the quote currency this activation may commit
  budget numeric NOT NULL CHECK (budget > 0),
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'suspended', 'stopped', 'error')),
  state_reason text,
  -- the book: the open position (long only on spot), its protections as prices, realised P&L
  position_side text CHECK (position_side IN ('long', 'short')),
  position_amount numeric NOT NULL DEFAULT 0 CHECK (position_amount >= 0),
  entry_price numeric,
  entry_cost numeric,
  entry_fee numeric,
  entry_time timestamptz,
  entry_order_id uuid,
  stop_loss numeric,
  take_profit numeric,
  realised_pnl numeric NOT NULL DEFAULT 0,
  last_decision_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at),
  CHECK ((position_side IS NULL) = (position_amount = 0))
);
CREATE INDEX bot_activations_live ON bot_activations (symbol, timeframe) WHERE state = 'running';
SELECT aristobot_enable_tenancy('bot_activations');

-- The activation's closed trades (entry and exit orders of its own book).
CREATE TABLE bot_trades (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  activation_id uuid NOT NULL REFERENCES bot_activations (id) ON DELETE CASCADE,
  side text NOT NULL CHECK (side IN ('long', 'short')),
  amount numeric NOT NULL,
  entry_price numeric NOT NULL,
  exit_price numeric NOT NULL,
  entry_time timestamptz NOT NULL,
  exit_time timestamptz NOT NULL,
  fees numeric NOT NULL DEFAULT 0,
  pnl numeric NOT NULL,
  exit_reason text NOT NULL CHECK (exit_reason IN ('signal', 'reverse', 'stop_loss', 'take_profit', 'sell', 'stop')),
  entry_order_id uuid,
  exit_order_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_trades_activation ON bot_trades (activation_id, exit_time DESC);
SELECT aristobot_enable_tenancy('bot_trades');

-- Every evaluation: written BEFORE any order is requested (status 'pending'), settled after. One
-- row per (activation, kind, candle): a candle is never decided twice, whatever restarts.
CREATE TABLE bot_decisions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  activation_id uuid NOT NULL REFERENCES bot_activations (id) ON DELETE CASCADE,
  -- 'signal': the strategy on a closed candle; 'stop_loss' / 'take_profit': the engine's watch on a
  -- 1m candle; 'sell' / 'stop': the user's buttons; 'skipped': a signal too old to act on
  kind text NOT NULL CHECK (kind IN ('signal', 'stop_loss', 'take_profit', 'sell', 'stop', 'skipped')),
  candle_time timestamptz NOT NULL,
  action text NOT NULL,
  reason text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'done' CHECK (status IN ('pending', 'done', 'error')),
  order_ids uuid[] NOT NULL DEFAULT '{}',
  error text,
  -- from the candle's close to the order request (null when no order)
  latency_ms numeric,
  -- the orders decided, with their client order ids, written before the first is sent; legs_done
  -- counts those whose outcome is in the book (a restart replays the rest with the same ids)
  plan jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(plan) = 'array'),
  legs_done integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX bot_decisions_once ON bot_decisions (activation_id, kind, candle_time) WHERE kind IN ('signal', 'stop_loss', 'take_profit', 'skipped');
CREATE INDEX bot_decisions_activation ON bot_decisions (activation_id, created_at DESC);
SELECT aristobot_enable_tenancy('bot_decisions');

-- The engine switch, per profile (no row: running).
CREATE TABLE bot_engine (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  running boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('bot_engine');
