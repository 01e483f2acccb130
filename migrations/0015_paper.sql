-- Paper trading: a paper broker trades on an exchange's live public prices with simulated balances
-- and orders kept here (no keys, nothing sent to the exchange). Its journal rows (orders, fills,
-- positions) are ordinary rows of a broker flagged `paper`; `orders.paper` records the mode.

ALTER TABLE brokers ADD COLUMN paper boolean NOT NULL DEFAULT false;
-- the fraction by which a paper market order's price is worse than the live price (0.001 = 0.1 %)
ALTER TABLE brokers ADD COLUMN paper_slippage numeric NOT NULL DEFAULT 0 CHECK (paper_slippage >= 0 AND paper_slippage < 1);
ALTER TABLE brokers ADD CONSTRAINT brokers_paper_not_testnet CHECK (NOT (paper AND testnet));

-- The mode of each journal row beside `sandbox`: set from its broker when the row is written.
ALTER TABLE orders ADD COLUMN paper boolean NOT NULL DEFAULT false;
CREATE FUNCTION aristobot_order_paper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.broker_id IS NOT NULL THEN
    NEW.paper := coalesce((SELECT paper FROM brokers WHERE id = NEW.broker_id), false);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_paper BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION aristobot_order_paper();

-- A paper account's balances (per asset). `used`: locked by open limit orders.
CREATE TABLE paper_balances (
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  asset text NOT NULL,
  free numeric NOT NULL CHECK (free >= 0),
  used numeric NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (broker_id, asset)
);
SELECT aristobot_enable_tenancy('paper_balances');

-- What the account started with (shown; `brokers.paper.reset` starts again from given balances).
CREATE TABLE paper_accounts (
  broker_id uuid PRIMARY KEY REFERENCES brokers (id) ON DELETE CASCADE,
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  starting_balances jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(starting_balances) = 'object'),
  reset_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('paper_accounts');

-- The paper exchange's orders, as an exchange keeps them.
CREATE TABLE paper_orders (
  id bigserial PRIMARY KEY,
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  client_order_id text NOT NULL,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  type text NOT NULL CHECK (type IN ('market', 'limit')),
  amount numeric NOT NULL CHECK (amount > 0),
  price numeric,
  filled numeric NOT NULL DEFAULT 0,
  cost numeric NOT NULL DEFAULT 0,
  -- funds locked by an open limit order that are still locked
  locked numeric NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('open', 'closed', 'canceled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX paper_orders_open ON paper_orders (broker_id, symbol) WHERE status = 'open';
CREATE INDEX paper_orders_client ON paper_orders (broker_id, client_order_id);
SELECT aristobot_enable_tenancy('paper_orders');

CREATE TABLE paper_trades (
  id bigserial PRIMARY KEY,
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  order_id bigint NOT NULL REFERENCES paper_orders (id) ON DELETE CASCADE,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  price numeric NOT NULL,
  amount numeric NOT NULL,
  cost numeric NOT NULL,
  fee numeric NOT NULL,
  fee_currency text NOT NULL,
  taker_or_maker text NOT NULL CHECK (taker_or_maker IN ('taker', 'maker')),
  executed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX paper_trades_order ON paper_trades (order_id);
CREATE INDEX paper_trades_symbol ON paper_trades (broker_id, symbol, executed_at);
SELECT aristobot_enable_tenancy('paper_trades');

-- The road to live (electron/bot/gate.ts): the lookahead check of a backtest run, run once per run
-- by the gate, and the explicit overrides that started a live activation with red steps.
CREATE TABLE bot_gate_lookahead (
  run_id uuid PRIMARY KEY REFERENCES backtest_runs (id) ON DELETE CASCADE,
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  ok boolean NOT NULL,
  checked integer NOT NULL,
  differences integer NOT NULL,
  -- the first decision that differs (index, time, full, truncated), or an error message
  detail jsonb,
  checked_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('bot_gate_lookahead');

CREATE TABLE bot_gate_overrides (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  activation_id uuid NOT NULL REFERENCES bot_activations (id) ON DELETE CASCADE,
  strategy_id uuid,
  version integer NOT NULL,
  -- the steps that were red when the user confirmed (e.g. {backtest, paper})
  red_steps text[] NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_gate_overrides_activation ON bot_gate_overrides (activation_id, at DESC);
SELECT aristobot_enable_tenancy('bot_gate_overrides');
