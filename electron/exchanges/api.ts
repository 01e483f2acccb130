import { invalidField } from '../../shared/errors';
import type { Handlers } from '../api/dispatch';
import type { EventBus } from '../events';
import type { BrokerService, TestnetMode } from './brokers';
import type { ExchangeGateway } from './gateway';
import type { MarketService } from './markets';

type ExchangeMethod =
  | 'exchanges.list' | 'brokers.list' | 'brokers.create' | 'brokers.update' | 'brokers.delete' | 'brokers.test' | 'brokers.testSaved'
  | 'brokers.setDefault' | 'brokers.paper.reset' | 'markets.update' | 'markets.cancel' | 'markets.list' | 'markets.summary' | 'app.testnet.get' | 'app.testnet.set';

export function exchangeHandlers(d: { gateway: ExchangeGateway; brokers: BrokerService; markets: MarketService; testnet: TestnetMode; bus: EventBus; paperSlippage?: string }): Pick<Handlers, ExchangeMethod> {
  const changed = (profileId: string, reason: string) => d.bus.emit('brokers.changed', { reason }, { profileId });
  return {
    'exchanges.list': async () => d.gateway.list(),
    'brokers.list': (_i, { profile }) => d.brokers.list(profile.id),
    'brokers.create': async (input, { profile }) => {
      let b;
      if (input.paper) {
        if (input.credentials && Object.keys(input.credentials).length) throw invalidField('credentials', 'errors.exchanges.paperBrokerTakesNo');
        if (input.testnet) throw invalidField('testnet', 'errors.exchanges.paperBrokerTradesLive');
        if (!input.balances) throw invalidField('balances', 'errors.exchanges.paperBrokerNeedsStarting');
        b = await d.brokers.createPaper(profile.id, { name: input.name, exchange: input.exchange, balances: input.balances, slippage: input.slippage }, d.paperSlippage ?? process.env.ARISTOBOT_PAPER_SLIPPAGE ?? '0');
      } else {
        if (input.balances || input.slippage !== undefined) throw invalidField(input.balances ? 'balances' : 'slippage', 'errors.exchanges.startingBalancesSlippageAre');
        b = await d.brokers.create(profile.id, { name: input.name, exchange: input.exchange, credentials: input.credentials ?? {}, testnet: input.testnet });
      }
      changed(profile.id, 'created');
      return b;
    },
    'brokers.update': async (input, { profile }) => {
      const b = await d.brokers.update(profile.id, input);
      changed(profile.id, 'updated');
      return b;
    },
    'brokers.delete': async ({ id }, { profile }) => {
      await d.brokers.delete(profile.id, id);
      changed(profile.id, 'deleted');
      return { ok: true as const };
    },
    'brokers.test': ({ exchange, credentials, testnet }, { profile }) => d.brokers.test(profile.id, exchange, credentials, testnet),
    'brokers.paper.reset': async ({ id, balances }, { profile }) => {
      const r = await d.brokers.resetPaper(profile.id, id, balances);
      changed(profile.id, 'paper_reset');
      return r;
    },
    'brokers.testSaved': ({ id }, { profile }) => d.brokers.testSaved(profile.id, id),
    'brokers.setDefault': async ({ id }, { profile }) => {
      const b = await d.brokers.setDefault(profile.id, id);
      changed(profile.id, 'default');
      return b;
    },
    'markets.update': async ({ brokerId }, { profile }) => {
      const r = await d.markets.update(profile.id, brokerId);
      return { started: r.started, exchange: r.exchange };
    },
    'markets.cancel': async ({ exchange }, { profile }) => ({ cancelled: d.markets.cancel(exchange, profile.id) }),
    'markets.list': (q) => d.markets.list(q),
    'markets.summary': (_i, { session }) => d.markets.summary(session.profile?.id ?? null),
    // The logged-in profile's mode (live when nobody is logged in).
    'app.testnet.get': async (_i, { session }) => ({ enabled: session.profile ? await d.testnet.get(session.profile.id) : false }),
    'app.testnet.set': async ({ enabled }, { profile }) => {
      await d.testnet.set(profile.id, enabled);
      for (const b of await d.brokers.list(profile.id)) d.gateway.invalidate(b.id);
      d.bus.emit('app.testnet.changed', { enabled }, { profileId: profile.id });
      return { enabled };
    },
  };
}
