-- French and English for the webhooks' journal: a request's reason and a webhook position's exit
-- reason keep their English text (the public API, scripts) and now also their catalogue key and
-- parameters (shared/i18n/*/coreWebhooks.ts), so the Webhooks page words them in the profile's
-- language. Older rows have NULL keys and show their stored English text.
ALTER TABLE webhook_requests ADD COLUMN reason_key text, ADD COLUMN reason_params jsonb;
ALTER TABLE webhook_positions ADD COLUMN exit_reason_key text, ADD COLUMN exit_reason_params jsonb;
