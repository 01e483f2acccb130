-- Brokers (a profile's account on an exchange) and markets (shared, per exchange).

CREATE TABLE brokers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  exchange text NOT NULL,
  testnet boolean NOT NULL DEFAULT false,
  is_default boolean NOT NULL DEFAULT false,
  active boolean NOT NULL DEFAULT true,
  -- opaque reference into the SecretStore (OS keychain or vault); the keys themselves are never here
  secret_ref text NOT NULL,
  -- what the UI may show of the credentials: field → masked hint ("••••1a2b")
  credential_hints jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX brokers_name_key ON brokers (profile_id, lower(name));
CREATE UNIQUE INDEX brokers_one_default ON brokers (profile_id) WHERE is_default;
SELECT aristobot_enable_tenancy('brokers');

-- Markets of an exchange, as CCXT reports them: the facts trading needs to round and validate.
-- Steps are tick/step sizes (e.g. 0.01, 0.00001) whatever the exchange's precision mode.
CREATE TABLE exchange_symbols (
  exchange text NOT NULL,
  symbol text NOT NULL,
  exchange_symbol text NOT NULL,
  base text NOT NULL,
  quote text NOT NULL,
  type text NOT NULL,
  active boolean NOT NULL,
  price_step numeric,
  amount_step numeric,
  min_amount numeric,
  max_amount numeric,
  min_cost numeric,
  max_cost numeric,
  min_price numeric,
  max_price numeric,
  maker numeric,
  taker numeric,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol)
);
CREATE INDEX exchange_symbols_quote ON exchange_symbols (exchange, quote);

CREATE TABLE exchange_market_loads (
  exchange text PRIMARY KEY,
  count integer NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer NOT NULL
);
