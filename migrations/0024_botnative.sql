-- Which guard holds an activation's stop-loss / take-profit: 'native' while the exchange holds the
-- pair of protective orders (an OCO list on Binance spot), 'engine' while the engine watches the
-- levels on every 1m candle (no levels, no pair, an exchange that cannot hold them, or the pair gone).
-- The Bot page shows which.
ALTER TABLE bot_activations ADD COLUMN protection text NOT NULL DEFAULT 'engine' CHECK (protection IN ('engine', 'native'));
