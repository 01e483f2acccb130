-- Aristobot3: foundation schema. Forward-only: never edit once released; add 0002_… instead.

-- The profile whose rows this transaction may see (set transaction-locally by the data layer).
CREATE FUNCTION aristobot_current_profile() RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('aristobot.profile_id', true), '')::uuid $$;

-- Row-Level Security for a profile-owned table: enabled, forced (owner included), one policy.
CREATE FUNCTION aristobot_enable_tenancy(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (profile_id = aristobot_current_profile()) WITH CHECK (profile_id = aristobot_current_profile())', t);
END $$;

GRANT USAGE ON SCHEMA public TO aristobot_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO aristobot_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO aristobot_app;

-- The tenant table itself: listed on the login screen, so not row-restricted.
CREATE TABLE profiles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  password_hash text NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  last_failed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX profiles_name_key ON profiles (lower(name));

CREATE TABLE profile_settings (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  theme text NOT NULL DEFAULT 'dark' CHECK (theme IN ('dark', 'light')),
  timezone text NOT NULL DEFAULT 'local' CHECK (timezone IN ('UTC', 'local')),
  default_broker_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT aristobot_enable_tenancy('profile_settings');

-- Development mode: one row, app-wide.
CREATE TABLE debug_mode (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  enabled boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO debug_mode (id, enabled) VALUES (true, false);

-- App-wide settings (key → JSON value).
CREATE TABLE app_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A record of the app's own starts and stops (diagnostics).
CREATE TABLE app_sessions (
  id bigserial PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  version text NOT NULL,
  mode text NOT NULL
);
