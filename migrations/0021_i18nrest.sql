-- French and English for the rest of what the core writes: a backtest run keeps its failure reason in
-- English (`error`, the public API) and now also its catalogue key and parameters, so the page words it
-- in the profile's language. Older rows have NULL keys and show their stored English text.
ALTER TABLE backtest_runs ADD COLUMN error_key text, ADD COLUMN error_params jsonb;
