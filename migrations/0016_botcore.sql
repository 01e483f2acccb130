-- The bot's reconciliation with the exchanges: two more kinds in the decisions journal.
-- 'reconcile': the book no longer matched the exchange and the activation was suspended;
-- 'adopt': the user adopted the exchange's quantity as the activation's position.
ALTER TABLE bot_decisions DROP CONSTRAINT bot_decisions_kind_check;
ALTER TABLE bot_decisions ADD CONSTRAINT bot_decisions_kind_check
  CHECK (kind IN ('signal', 'stop_loss', 'take_profit', 'sell', 'stop', 'skipped', 'reconcile', 'adopt'));
