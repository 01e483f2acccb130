-- Hardening (issue 8).
--
-- Testnet is a per-profile switch: profiles are separate users, and one profile's switch must never
-- move another profile's trading between live and testnet. Every existing profile keeps the mode the
-- app-wide switch had; new profiles start live.
DO $$
DECLARE
  v boolean := coalesce((SELECT value = 'true'::jsonb FROM app_settings WHERE key = 'testnet'), false);
BEGIN
  -- ADD COLUMN … DEFAULT fills the existing rows (no Row-Level Security involved), then new rows default to live.
  EXECUTE format('ALTER TABLE profile_settings ADD COLUMN testnet boolean NOT NULL DEFAULT %L', v);
  ALTER TABLE profile_settings ALTER COLUMN testnet SET DEFAULT false;
END $$;
DELETE FROM app_settings WHERE key = 'testnet';

-- A profile's default broker is one of ITS brokers: a foreign key on (profile, broker), cleared
-- when the broker goes. Existing values naming another profile's broker (or a deleted one) are
-- cleared first; the tables force Row-Level Security, so each profile's row is checked under it.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT id FROM profiles LOOP
    PERFORM set_config('aristobot.profile_id', p.id::text, true);
    UPDATE profile_settings s SET default_broker_id = NULL
      WHERE s.default_broker_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM brokers b WHERE b.id = s.default_broker_id);
  END LOOP;
  PERFORM set_config('aristobot.profile_id', '', true);
END $$;
ALTER TABLE brokers ADD CONSTRAINT brokers_profile_id_id_key UNIQUE (profile_id, id);
ALTER TABLE profile_settings ADD CONSTRAINT profile_settings_default_broker_fkey
  FOREIGN KEY (profile_id, default_broker_id) REFERENCES brokers (profile_id, id) ON DELETE SET NULL (default_broker_id);
