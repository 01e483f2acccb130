-- Native stop-loss / take-profit orders (branch `orders`).
--
-- A protective order is an ordinary journal row (side, amount, client order id, journaled before it
-- is sent) with a trigger price: the exchange holds it untriggered and sells at market when the price
-- reaches it. `protects` says which leg it is; the legs of one protective pair share `oco_ref` (the
-- list client order id on Binance, whose OCO expires the other leg by itself; elsewhere the app
-- cancels the other leg when one fills).
ALTER TABLE orders ADD COLUMN trigger_price numeric CHECK (trigger_price IS NULL OR trigger_price > 0);
ALTER TABLE orders ADD COLUMN protects text CHECK (protects IS NULL OR protects IN ('stop_loss', 'take_profit'));
ALTER TABLE orders ADD COLUMN oco_ref text;
CREATE INDEX orders_oco_ref ON orders (profile_id, broker_id, sandbox, oco_ref) WHERE oco_ref IS NOT NULL;

-- How a webhook's stop-loss / take-profit is enforced: native orders at the exchange, or watched by the app.
ALTER TABLE webhook_requests ADD COLUMN protection text CHECK (protection IS NULL OR protection IN ('native', 'watched'));
