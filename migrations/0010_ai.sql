-- AI assistant settings, one row per profile. The OpenRouter API key itself lives in the SecretStore:
-- the row keeps only its opaque reference and a masked hint (last 4 characters).
CREATE TABLE ai_settings (
  profile_id uuid PRIMARY KEY DEFAULT aristobot_current_profile() REFERENCES profiles (id) ON DELETE CASCADE,
  -- at most one provider is on (the switches are mutually exclusive)
  provider text NOT NULL DEFAULT 'off' CHECK (provider IN ('off', 'openrouter', 'ollama')),
  openrouter_secret_ref text,
  openrouter_key_hint text,
  openrouter_model text,
  ollama_url text NOT NULL DEFAULT 'http://localhost:11434',
  ollama_model text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (provider <> 'openrouter' OR openrouter_secret_ref IS NOT NULL)
);
SELECT aristobot_enable_tenancy('ai_settings');
