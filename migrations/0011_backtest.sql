-- Backtests: longer timeframes for stored candles (downloads and imported data sets), and the runs.

-- Candles for backtests come in any timeframe the exchange offers (1d, 1w, …) or a CSV carries; the
-- heartbeat still writes only its own timeframes (shared/timeframes.ts).
ALTER TABLE candles DROP CONSTRAINT candles_timeframe_check;
ALTER TABLE candles ADD CONSTRAINT candles_timeframe_check
  CHECK (timeframe IN ('1m', '3m', '5m', '10m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'));

-- A backtest (kind 'run') or an optimisation (kind 'optimise') of one profile. Inputs as given
-- (amounts as decimal strings), the strategy version and parameters used, and the results: metrics,
-- every simulated trade, the equity curve downsampled for display (with buy-and-hold beside it).
-- The kernel computes in float64, so results are JSON numbers.
CREATE TABLE backtest_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  kind text NOT NULL DEFAULT 'run' CHECK (kind IN ('run', 'optimise')),
  status text NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
  strategy_id text NOT NULL,
  strategy_version integer NOT NULL,
  strategy_name text,
  params jsonb NOT NULL DEFAULT '{}',
  exchange text NOT NULL,
  broker_id uuid,
  symbol text NOT NULL,
  timeframe text NOT NULL,
  range_from timestamptz NOT NULL,
  range_to timestamptz NOT NULL,
  initial_balance numeric NOT NULL CHECK (initial_balance > 0),
  -- everything else the run was asked with (fees, slippage, fillAt, allowShort, amountStep, grid, …)
  inputs jsonb NOT NULL,
  candles integer,
  metrics jsonb,
  trades jsonb,
  -- {time: [], equity: [], buyHold: []} at most a few thousand points
  equity jsonb,
  -- optimise: the ranked rows
  results jsonb,
  error text,
  error_line integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  duration_ms integer
);
CREATE INDEX backtest_runs_profile_time ON backtest_runs (profile_id, created_at DESC);
-- One run (or optimisation) at a time per profile.
CREATE UNIQUE INDEX backtest_runs_one_running ON backtest_runs (profile_id) WHERE status = 'running';
SELECT aristobot_enable_tenancy('backtest_runs');
