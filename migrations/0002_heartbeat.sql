-- Aristobot3: the heartbeat (market data). Shared, profile-free tables: no RLS; the default
-- privileges of 0001 already grant the app role SELECT/INSERT/UPDATE/DELETE on them.

-- Candles of every timeframe, one row per (exchange, symbol, timeframe, open time). Written by
-- idempotent upserts; 1m candles come from the exchange, the others are built from them.
CREATE TABLE candles (
  exchange text NOT NULL,
  symbol text NOT NULL,                  -- CCXT form, 'BTC/USDT'
  timeframe text NOT NULL CHECK (timeframe IN ('1m', '3m', '5m', '10m', '15m', '1h', '2h', '4h')),
  open_time timestamptz NOT NULL,
  open numeric NOT NULL,
  high numeric NOT NULL,
  low numeric NOT NULL,
  close numeric NOT NULL,
  volume numeric NOT NULL,
  PRIMARY KEY (exchange, symbol, timeframe, open_time)
);

-- The symbols the heartbeat watches, per exchange.
CREATE TABLE heartbeat_symbols (
  exchange text NOT NULL,
  symbol text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol)
);
INSERT INTO heartbeat_symbols (exchange, symbol) VALUES ('binance', 'BTC/USDT');

-- The current state of the heartbeat, one row per exchange (diagnostics, shown after a restart).
CREATE TABLE heartbeat_status (
  exchange text PRIMARY KEY,
  running boolean NOT NULL DEFAULT false,
  connected boolean NOT NULL DEFAULT false,
  last_started_at timestamptz,
  last_stopped_at timestamptz,
  last_message_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  symbols_watched integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A row per heartbeat session (start → stop).
CREATE TABLE heartbeat_sessions (
  id bigserial PRIMARY KEY,
  exchange text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  stop_reason text,
  symbols_watched integer NOT NULL DEFAULT 0,
  reconnects integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX heartbeat_sessions_started_idx ON heartbeat_sessions (exchange, started_at DESC);
