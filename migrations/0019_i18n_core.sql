-- French and English for what the core writes: a notification keeps its English title and body (the
-- public API, scripts) and now also their catalogue keys and parameters, so the bell and Telegram word
-- it in the profile's language. Older rows have NULL keys and show their stored English text.
ALTER TABLE notifications ADD COLUMN title_key text, ADD COLUMN title_params jsonb, ADD COLUMN body_key text, ADD COLUMN body_params jsonb;
