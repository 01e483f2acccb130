-- Trading: every fee currency of an order.
--
-- An order can pay fees in more than one currency (Binance charges BNB while the account holds
-- enough, then the asset received). `fee`/`fee_currency` held one currency only; `fees` holds them
-- all, summed per currency: [{"cost": "0.0005", "currency": "BNB"}, {"cost": "0.3", "currency": "USDT"}]
-- (costs as decimal strings, never JSON numbers). `fee`/`fee_currency` stay, set when there is one.
ALTER TABLE orders ADD COLUMN fees jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Existing rows: from their fills where the journal has them, else from the one fee kept. The
-- tables force Row-Level Security, so each profile's rows are updated under that profile.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT id FROM profiles LOOP
    PERFORM set_config('aristobot.profile_id', p.id::text, true);
    UPDATE orders o SET fees = f.fees
      FROM (SELECT x.order_id, jsonb_agg(jsonb_build_object('cost', x.cost::text, 'currency', x.cur) ORDER BY x.first_at, x.cur) AS fees
              FROM (SELECT order_id, fee_currency AS cur, sum(fee) AS cost, min(executed_at) AS first_at FROM order_fills
                     WHERE order_id IS NOT NULL AND fee IS NOT NULL AND fee_currency IS NOT NULL GROUP BY order_id, fee_currency) x
             GROUP BY x.order_id) f
     WHERE o.id = f.order_id;
    UPDATE orders SET fees = jsonb_build_array(jsonb_build_object('cost', fee::text, 'currency', fee_currency))
     WHERE fees = '[]'::jsonb AND fee IS NOT NULL AND fee_currency IS NOT NULL;
  END LOOP;
  PERFORM set_config('aristobot.profile_id', '', true);
END $$;
