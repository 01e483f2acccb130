-- French and English for what the trading bot writes: a decision's reason and error, and an
-- activation's state reason keep their English text (the public API, scripts) and now also their
-- catalogue keys and parameters (shared/i18n/en/coreBot.ts), so the Bot page words them in the
-- profile's language. Older rows have NULL keys and show their stored English text.
ALTER TABLE bot_decisions ADD COLUMN reason_key text, ADD COLUMN reason_params jsonb, ADD COLUMN error_key text, ADD COLUMN error_params jsonb;
ALTER TABLE bot_activations ADD COLUMN state_reason_key text, ADD COLUMN state_reason_params jsonb;
