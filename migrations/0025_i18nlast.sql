-- French and English for the Telegram queue's note on a message it could not send (not set up, token
-- missing, disconnected, Telegram's refusal or unreachability): `telegram_error` keeps its English text
-- (the public API, scripts) and now also its catalogue key and parameters, so the notification centre
-- words it in the profile's language. Older rows have NULL keys and show their stored English text.
ALTER TABLE notifications ADD COLUMN telegram_error_key text, ADD COLUMN telegram_error_params jsonb;
