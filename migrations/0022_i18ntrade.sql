-- French and English for the order journal's reason (issue 15): an order keeps its English
-- error_message (the public API, scripts) and now also its catalogue key and parameters, so the pages
-- word it in the profile's language. Older rows have NULL keys and show their stored English text.
ALTER TABLE orders ADD COLUMN error_key text, ADD COLUMN error_params jsonb;
