import type { Exchange } from 'ccxt';
import { AppError } from '../../shared/errors';
import type { Database } from '../db/database';
import { TestnetMode, type Broker, type BrokerService } from '../exchanges/brokers';
import { CREDENTIAL_FIELDS, type Credentials, type ExchangeGateway } from '../exchanges/gateway';

/**
 * Live and testnet are two accounts. Every journal row, fill and position records the mode it
 * belongs to (`sandbox`, migration 0005): the mode of the exchange instance that placed the order or
 * reported the fill. A row is then looked up, cancelled, modified and synced in ITS mode — whatever
 * the profile's testnet switch (or the broker's own flag) says now — and the trading page shows the
 * current mode's positions, orders and portfolio.
 */

export type BrokerAccess = Pick<BrokerService, 'exchangeFor' | 'get'>;
export type ModeGateway = Pick<ExchangeGateway, 'forBroker' | 'loadMarkets' | 'info'>;

/** Whether a CCXT instance talks to its exchange's testnet (sandbox). */
export function sandboxOf(ex: Exchange): boolean {
  return ex.isSandboxModeEnabled === true;
}

/**
 * The mode a broker trades in right now: its own testnet flag, or its profile's testnet switch where
 * its exchange has a sandbox — the rule `BrokerService.exchangeFor` applies, read without building an
 * exchange instance (no keys needed).
 */
export async function currentSandbox(db: Database, gateway: Pick<ExchangeGateway, 'info'>, profileId: string, broker: Pick<Broker, 'testnet' | 'exchange'> & { paper?: boolean }): Promise<boolean> {
  if (broker.paper) return false;
  if (broker.testnet) return true;
  if (!(await new TestnetMode(db).get(profileId))) return false;
  return gateway.info(broker.exchange).hasSandbox;
}

/** The credentials a CCXT instance was created with (CCXT keeps them as instance properties). */
function credentialsOf(ex: Exchange): Credentials {
  const out: Credentials = {};
  const props = ex as unknown as Record<string, unknown>;
  for (const f of CREDENTIAL_FIELDS) {
    const v = props[f];
    if (typeof v === 'string' && v !== '') out[f] = v;
  }
  return out;
}

/**
 * The broker's CCXT instance in the given mode, with markets loaded, whatever the current mode is.
 * `BrokerService.exchangeFor` builds the current mode's instance (checking the broker exists and is
 * active, reading its keys from the SecretStore); a broker has one set of keys, so the other mode's
 * instance is the gateway's cached one for (broker, mode), created with the same keys.
 */
export async function exchangeIn(brokers: BrokerAccess, gateway: ModeGateway, profileId: string, brokerId: string, sandbox: boolean): Promise<{ ex: Exchange; broker: Broker }> {
  const current = await brokers.exchangeFor(profileId, brokerId, { markets: false });
  let ex = current.ex;
  if (sandboxOf(ex) !== sandbox) {
    if (sandbox && !gateway.info(current.broker.exchange).hasSandbox) {
      throw new AppError('unavailable', 'errors.trading.hasNoTestnetCcxt', { exchange: current.broker.exchange });
    }
    ex = await gateway.forBroker(brokerId, current.broker.exchange, sandbox, () => Promise.resolve(credentialsOf(current.ex)));
  }
  await gateway.loadMarkets(ex);
  return { ex, broker: current.broker };
}
