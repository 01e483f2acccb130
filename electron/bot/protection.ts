import { createHash } from 'node:crypto';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import type { OrderService, Protection } from '../trading/orders';
import type { ActivationRow } from './store';

/**
 * An activation's stop-loss / take-profit as native orders at the exchange (the order service's
 * `protect`: an OCO list on Binance spot), for the engine's SL/TP lines. On by default, as the issue
 * asks (native where CCXT says the exchange supports them): the pair keeps protecting the position
 * while the app is closed or asleep. `ARISTOBOT_BOT_NATIVE_STOPS=0` turns it off; the engine then
 * watches its levels on every 1m candle, as it does wherever the exchange cannot hold them.
 *
 * - `place` after the open leg filled: the pair's client order id is derived from the activation
 *   and its entry order, so a replayed leg never places a second pair.
 * - `release` before any close leg: the pair holds the coins, so it is cancelled first.
 * - `check` on each 1m candle: 'native' while the exchange holds the pair; the executed leg (its
 *   client order id, which the engine "places" again to book it — the order service answers the
 *   journaled order); null when there is no pair (or it is gone): the engine watches the levels.
 */

export type NativeCheck = 'native' | { kind: 'stop_loss' | 'take_profit'; clientOrderId: string } | null;

type Activation = Pick<ActivationRow, 'id' | 'profile_id' | 'broker_id' | 'symbol' | 'position_amount' | 'entry_price' | 'entry_order_id' | 'stop_loss' | 'take_profit'>;

export class BotProtection {
  constructor(
    private readonly orders: Pick<OrderService, 'protect' | 'settleProtection' | 'cancelProtection'>,
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  /** Whether the engine should use native orders (yes unless `ARISTOBOT_BOT_NATIVE_STOPS=0`). */
  static enabled(env: NodeJS.ProcessEnv = process.env): boolean {
    return env['ARISTOBOT_BOT_NATIVE_STOPS'] !== '0';
  }

  static pairId(activationId: string, entryOrderId: string): string {
    return `a3p${createHash('sha256').update(`${activationId}\n${entryOrderId}`).digest('hex').slice(0, 30)}`;
  }

  async place(a: Activation): Promise<Protection | null> {
    if (!a.broker_id || !a.entry_order_id || !a.position_amount.gt(0) || (!a.stop_loss && !a.take_profit)) return null;
    const p = await this.orders.protect(a.profile_id, {
      brokerId: a.broker_id,
      symbol: a.symbol,
      amount: a.position_amount,
      stopLoss: a.stop_loss,
      takeProfit: a.take_profit,
      source: 'strategy',
      sourceRef: a.id,
      clientOrderId: BotProtection.pairId(a.id, a.entry_order_id),
    });
    this.log.info({ activation: a.id, mode: p.mode, how: p.how, reason: p.reason }, 'activation stop-loss / take-profit');
    return p;
  }

  /** The activation's most recent pair and its mode (live or testnet). */
  private async pair(a: Activation, open: boolean): Promise<{ ocoRef: string; sandbox: boolean } | null> {
    const { rows } = await this.db.withProfile(a.profile_id, (c) =>
      c.query<{ oco_ref: string; sandbox: boolean }>(
        `SELECT oco_ref, sandbox FROM orders WHERE source = 'strategy' AND source_ref = $1 AND oco_ref IS NOT NULL
            ${open ? "AND status IN ('intent', 'sent', 'unknown', 'open', 'partially_filled')" : ''} ORDER BY created_at DESC LIMIT 1`,
        [a.id],
      ),
    );
    return rows[0] ? { ocoRef: rows[0].oco_ref, sandbox: rows[0].sandbox } : null;
  }

  async release(a: Activation): Promise<void> {
    const p = await this.pair(a, true);
    if (p && a.broker_id) await this.orders.cancelProtection(a.profile_id, a.broker_id, p.sandbox, p.ocoRef);
  }

  async check(a: Activation): Promise<NativeCheck> {
    if (!a.broker_id || !a.entry_order_id) return null;
    const p = await this.pair(a, false);
    if (!p || p.ocoRef !== BotProtection.pairId(a.id, a.entry_order_id)) return null;
    const s = await this.orders.settleProtection(a.profile_id, a.broker_id, p.sandbox, p.ocoRef);
    if (s.filled?.protects) return { kind: s.filled.protects, clientOrderId: s.filled.client_order_id };
    return s.active ? 'native' : null;
  }
}
