-- Strategies: a profile's TypeScript strategies (the Strategy API of shared/strategy-api.ts) and
-- every saved version of their code. Backtests and bot runs record the version they ran
-- (strategy_versions.id, or strategy id + version number).

CREATE TABLE strategies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  -- a hint for backtests and bots (e.g. '1h'); null = none
  timeframe text CHECK (timeframe ~ '^[1-9][0-9]{0,2}[mhdwM]$'),
  -- the latest version (strategy_versions.version); 1 when created
  current_version integer NOT NULL DEFAULT 1 CHECK (current_version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX strategies_name_key ON strategies (profile_id, lower(name));
SELECT aristobot_enable_tenancy('strategies');

-- Every save is a version: the code as written, the JavaScript it was transpiled to (once, here,
-- never per run), the declared params and warm-up. Rows are immutable.
CREATE TABLE strategy_versions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  profile_id uuid NOT NULL DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  strategy_id uuid NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version >= 1),
  code text NOT NULL,
  js text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
  warmup integer NOT NULL CHECK (warmup >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (strategy_id, version)
);
SELECT aristobot_enable_tenancy('strategy_versions');

CREATE FUNCTION strategy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'strategy versions are immutable (strategy %, version %)', OLD.strategy_id, OLD.version
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER strategy_versions_no_update BEFORE UPDATE ON strategy_versions
  FOR EACH ROW EXECUTE FUNCTION strategy_versions_immutable();
