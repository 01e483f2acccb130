-- Trading: the order journal (every attempt, whatever its source), fills, and positions.

-- The order journal. One row per attempt to place an order, written (status 'intent', with its
-- client order id) and committed BEFORE the request leaves, then settled from the exchange's answer.
-- Attempts refused locally (bad amount, no balance, …) are rows too ('rejected'). Orders found at
-- the exchange that the app did not place (source 'external') are recorded by the sync.
CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  -- kept when the broker is deleted (the journal is history); exchange says where it went
  broker_id uuid REFERENCES brokers (id) ON DELETE SET NULL,
  exchange text NOT NULL,
  source text NOT NULL CHECK (source IN ('manual', 'strategy', 'webhook', 'external')),
  -- what started it, e.g. a strategy or webhook id (free text, optional)
  source_ref text,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  type text NOT NULL CHECK (type IN ('market', 'limit')),
  -- as requested (before rounding): an amount in the base currency, or a cost in the quote currency
  requested_amount numeric,
  requested_cost numeric,
  requested_price numeric,
  -- as sent: the amount truncated to the step, the price on the tick
  amount numeric,
  price numeric,
  client_order_id text NOT NULL,
  exchange_order_id text,
  status text NOT NULL CHECK (status IN ('intent', 'sent', 'open', 'filled', 'partially_filled', 'cancelled', 'rejected', 'unknown')),
  filled numeric NOT NULL DEFAULT 0,
  average_price numeric,
  -- filled cost in the quote currency
  cost numeric,
  fee numeric,
  fee_currency text,
  error_code text,
  error_message text,
  -- Modify: the order this one replaces (cancel-replace or edit with a new exchange id)
  replaces_order_id uuid REFERENCES orders (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
-- A client order id names one attempt (a webhook passes its dedupe key as the client order id).
CREATE UNIQUE INDEX orders_client_order_id_key ON orders (profile_id, broker_id, client_order_id) WHERE source <> 'external';
CREATE UNIQUE INDEX orders_exchange_order_id_key ON orders (broker_id, symbol, exchange_order_id) WHERE exchange_order_id IS NOT NULL;
CREATE INDEX orders_pending ON orders (profile_id, status) WHERE status IN ('intent', 'sent', 'unknown', 'open', 'partially_filled');
CREATE INDEX orders_broker_time ON orders (profile_id, broker_id, created_at DESC);
SELECT aristobot_enable_tenancy('orders');

-- Fills (trades) of orders, as the exchange reports them.
CREATE TABLE order_fills (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  order_id uuid REFERENCES orders (id) ON DELETE CASCADE,
  broker_id uuid REFERENCES brokers (id) ON DELETE SET NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  trade_id text NOT NULL,
  price numeric NOT NULL,
  amount numeric NOT NULL,
  cost numeric NOT NULL,
  fee numeric,
  fee_currency text,
  taker_or_maker text,
  executed_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX order_fills_trade_key ON order_fills (broker_id, symbol, trade_id);
CREATE INDEX order_fills_order ON order_fills (order_id);
CREATE INDEX order_fills_position ON order_fills (profile_id, broker_id, symbol, executed_at);
SELECT aristobot_enable_tenancy('order_fills');

-- Positions per broker and symbol, recomputed from the fills (quantity in the base currency, net of
-- fees paid in it; average entry and realised P&L in the quote currency). Unrealised P&L is computed
-- on read from the current price.
CREATE TABLE positions (
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  broker_id uuid NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
  exchange text NOT NULL,
  symbol text NOT NULL,
  base text NOT NULL,
  quote text NOT NULL,
  quantity numeric NOT NULL DEFAULT 0,
  average_entry numeric,
  realised_pnl numeric NOT NULL DEFAULT 0,
  fills integer NOT NULL DEFAULT 0,
  last_fill_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (profile_id, broker_id, symbol)
);
SELECT aristobot_enable_tenancy('positions');
