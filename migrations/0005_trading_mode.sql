-- Trading: the mode (live or the exchange's testnet/sandbox) of every journal row, fill and position.
--
-- A broker's live account and its testnet account are two different accounts at two different
-- places. An order is looked up, cancelled, modified and synced where it was placed, whatever the
-- global testnet switch says now; positions and fills of one mode never mix with the other's.

ALTER TABLE orders ADD COLUMN sandbox boolean NOT NULL DEFAULT false;
ALTER TABLE order_fills ADD COLUMN sandbox boolean NOT NULL DEFAULT false;
ALTER TABLE positions ADD COLUMN sandbox boolean NOT NULL DEFAULT false;

-- When the reconciliation last looked a pending order up (it takes the least recently checked first,
-- so rows that stay unknown never starve the others).
ALTER TABLE orders ADD COLUMN checked_at timestamptz;

-- Existing rows: a broker flagged testnet always used its exchange's sandbox, so its rows are
-- sandbox rows. Rows of other brokers stay live (the history of the global switch is not known).
-- The tables force Row-Level Security, so each profile's rows are updated under that profile.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT id FROM profiles LOOP
    PERFORM set_config('aristobot.profile_id', p.id::text, true);
    UPDATE orders o SET sandbox = true FROM brokers b WHERE b.id = o.broker_id AND b.testnet;
    UPDATE order_fills f SET sandbox = true FROM brokers b WHERE b.id = f.broker_id AND b.testnet;
    UPDATE positions s SET sandbox = true FROM brokers b WHERE b.id = s.broker_id AND b.testnet;
  END LOOP;
  PERFORM set_config('aristobot.profile_id', '', true);
END $$;

-- The keys, per mode: a client order id names one attempt per broker and mode; an exchange order
-- id, a trade id and a position belong to one mode's account.
DROP INDEX orders_client_order_id_key;
CREATE UNIQUE INDEX orders_client_order_id_key ON orders (profile_id, broker_id, sandbox, client_order_id) WHERE source <> 'external';
DROP INDEX orders_exchange_order_id_key;
CREATE UNIQUE INDEX orders_exchange_order_id_key ON orders (broker_id, sandbox, symbol, exchange_order_id) WHERE exchange_order_id IS NOT NULL;
DROP INDEX order_fills_trade_key;
CREATE UNIQUE INDEX order_fills_trade_key ON order_fills (broker_id, sandbox, symbol, trade_id);
DROP INDEX order_fills_position;
CREATE INDEX order_fills_position ON order_fills (profile_id, broker_id, sandbox, symbol, executed_at);
ALTER TABLE positions DROP CONSTRAINT positions_pkey;
ALTER TABLE positions ADD PRIMARY KEY (profile_id, broker_id, sandbox, symbol);
