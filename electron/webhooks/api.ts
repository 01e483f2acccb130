import type Decimal from 'decimal.js';
import type { Handlers } from '../api/dispatch';
import { unrealised } from './book';
import type { WebhookService } from './service';

type WebhookMethod =
  | 'webhooks.listener.get' | 'webhooks.listener.start' | 'webhooks.listener.stop' | 'webhooks.listener.restrict' | 'webhooks.test'
  | 'webhooks.secret.get' | 'webhooks.secret.rotate' | 'webhooks.list' | 'webhooks.stats' | 'webhooks.templates' | 'webhooks.positions'
  | 'webhooks.senders' | 'webhooks.tunnel.start' | 'webhooks.tunnel.stop';

const s = (d: Decimal | null): string | null => (d === null ? null : d.toFixed());

/** Handlers of the webhooks contract (shared/contract/webhooks.ts). */
export function webhookHandlers(w: WebhookService): Pick<Handlers, WebhookMethod> {
  return {
    'webhooks.listener.get': (_i, { profile }) => w.state(profile.id),
    'webhooks.listener.start': (_i, { profile }) => w.startListener(profile.id),
    'webhooks.listener.stop': (_i, { profile }) => w.stopListener(profile.id),
    'webhooks.listener.restrict': ({ restrictToTradingView }, { profile }) => w.setRestriction(profile.id, restrictToTradingView),
    'webhooks.test': (_i, { profile }) => w.sendTest(profile.id),
    'webhooks.secret.get': async (_i, { profile }) => {
      const { secret, masked } = await w.secret(profile.id);
      return { secret, masked };
    },
    'webhooks.secret.rotate': (_i, { profile }) => w.rotateSecret(profile.id),
    'webhooks.list': async (input, { profile }) =>
      (await w.list(profile.id, input?.filters ?? { limit: 200 })).map((r) => ({
        id: r.id,
        receivedAt: r.received_at.toISOString(),
        senderIp: r.sender_ip,
        alertId: r.alert_id,
        action: r.action,
        symbol: r.symbol,
        market: r.market,
        brokerId: r.broker_id,
        brokerName: r.broker_name,
        sender: r.sender,
        httpStatus: r.http_status,
        status: r.status,
        reason: r.reason,
        reasonKey: r.reason_key ?? null,
        reasonParams: r.reason_params ?? null,
        payload: r.payload,
        raw: r.raw,
        processedAt: r.processed_at?.toISOString() ?? null,
        protection: r.protection ?? null,
        order: r.order_id
          ? { id: r.order_id, clientOrderId: r.order_client_id, status: r.order_status, side: r.order_side, type: r.order_type, amount: s(r.order_amount), filled: s(r.order_filled), averagePrice: s(r.order_average), error: r.order_error }
          : null,
      })),
    'webhooks.stats': async ({ period }, { profile }) => {
      const st = await w.stats(profile.id, period);
      return { ...st, period, since: st.since.toISOString() };
    },
    'webhooks.templates': (input, { profile }) => w.templates(profile.id, input?.brokerId),
    'webhooks.positions': async (_i, { profile }) =>
      (await w.positions(profile.id)).map((p) => ({
        id: p.id,
        brokerId: p.broker_id,
        brokerName: p.brokerName,
        exchange: p.exchange,
        symbol: p.symbol,
        base: p.base,
        quote: p.quote,
        sandbox: p.sandbox,
        quantity: p.quantity.toFixed(),
        averageEntry: s(p.average_entry),
        realisedPnl: p.realised_pnl.toFixed(),
        unrealisedPnl: s(unrealised({ quantity: p.quantity, averageEntry: p.average_entry }, p.price)),
        price: s(p.price),
        stopLoss: s(p.stop_loss),
        takeProfit: s(p.take_profit),
        protection: p.protection,
        exitReason: p.exit_reason,
        exitReasonKey: p.exit_reason_key ?? null,
        exitReasonParams: p.exit_reason_params ?? null,
        fills: p.fills,
        updatedAt: p.updated_at.toISOString(),
      })),
    'webhooks.senders': async (_i, { profile }) =>
      (await w.senders(profile.id)).map((x) => ({ name: x.name, lastPingAt: x.lastPingAt.toISOString(), lastIp: x.lastIp, expectMinutes: x.expectMinutes, pings: x.pings, dueAt: x.dueAt?.toISOString() ?? null, missed: x.missed })),
    'webhooks.tunnel.start': (input, { profile }) => w.tunnelStart(profile.id, input?.authtoken),
    'webhooks.tunnel.stop': (_i, { profile }) => w.tunnelStop(profile.id),
  };
}
