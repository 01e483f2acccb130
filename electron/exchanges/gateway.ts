import ccxt, { type Exchange, type Market } from 'ccxt';
import { AppError, invalidField } from '../../shared/errors';
import type { Logger } from '../log';
import { mapExchangeError } from './errors';
import { hasPublicMarketData, makePaperExchange, type PaperAccount } from './paper';
import { exchangeUrlOverride, pointExchangeAt } from './urls';

/** Credential fields CCXT may require (`requiredCredentials`). */
export const CREDENTIAL_FIELDS = ['apiKey', 'secret', 'uid', 'accountId', 'login', 'password', 'twofa', 'privateKey', 'walletAddress', 'token'] as const;
export type CredentialField = (typeof CREDENTIAL_FIELDS)[number];
export type Credentials = Partial<Record<CredentialField, string>>;

export interface ExchangeInfo {
  id: string;
  name: string;
  requiredCredentials: CredentialField[];
  hasSandbox: boolean;
}

type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

/**
 * CCXT's default rate limiter is a leaky bucket that spaces requests by their cost: after a quiet
 * moment the first request leaves at once and each next one waits for the bucket to refill (it
 * does not fill while idle). For an exchange whose own limit is a budget per minute, CCXT's
 * rolling-window limiter models that budget instead: requests leave at once while the last minute's
 * total stays within it (`rollingWindowSize` / `rateLimit` units per window).
 * - binance: a unit is 5 of Binance's request weight (an order's POST, weight 1, costs 0.2), so
 *   60 s / 50 ms = 1200 units = 6000 weight per rolling minute: Binance's REQUEST_WEIGHT limit per
 *   minute, which Binance counts per calendar minute (a rolling window is never looser). The bot's
 *   orders of one candle close (up to 20 activations) then leave together instead of one every
 *   10 ms; Binance's own order limit (100 per 10 s) is above such a burst, and an exchange's 429 is
 *   handled as before (the order is looked up, never resent).
 */
export const ROLLING_WINDOW_MS: Readonly<Record<string, number>> = { binance: 60_000 };

export interface GatewayOptions {
  log: Logger;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The only way the app reaches an exchange. One CCXT instance per broker (created lazily, rate
 * limited, with a timeout, sandbox when testnet), credentials injected at creation and never logged.
 * Markets are loaded once per exchange (and mode) and handed to every instance of that exchange.
 * Every call goes through `run`, which maps CCXT's errors to the app's codes.
 */
export class ExchangeGateway {
  readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private catalog: ExchangeInfo[] | null = null;
  private readonly instances = new Map<string, Exchange>();
  private readonly markets = new Map<string, Promise<{ markets: Record<string, Market>; currencies: unknown }>>();

  constructor(opts: GatewayOptions) {
    this.log = opts.log;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.env = opts.env ?? process.env;
  }

  private klass(id: string): ExchangeClass {
    const cls = (ccxt as unknown as Record<string, ExchangeClass | undefined>)[id];
    if (!ccxt.exchanges.includes(id) || typeof cls !== 'function') throw invalidField('exchange', 'errors.exchanges.unknownExchangeCcxtDoes', { id });
    return cls;
  }

  /** Every exchange CCXT supports, with the credential fields it requires. Built once. */
  list(): ExchangeInfo[] {
    if (!this.catalog) {
      this.catalog = ccxt.exchanges.map((id) => {
        const ex = new (this.klass(id))({});
        return { id, name: String(ex.name ?? id), requiredCredentials: CREDENTIAL_FIELDS.filter((f) => (ex.requiredCredentials as Record<string, boolean>)[f]), hasSandbox: !!(ex.urls as Record<string, unknown>).test };
      });
    }
    return this.catalog;
  }

  info(id: string): ExchangeInfo {
    this.klass(id);
    const info = this.list().find((e) => e.id === id);
    if (!info) throw new AppError('invalid_input', 'errors.exchanges.unknownExchange', { id });
    return info;
  }

  /** A fresh instance (not cached), e.g. to test typed credentials before saving them. */
  create(id: string, credentials: Credentials, sandbox: boolean): Exchange {
    const Cls = this.klass(id);
    const windowMs = ROLLING_WINDOW_MS[id];
    const ex = new Cls({ ...credentials, enableRateLimit: true, timeout: this.timeoutMs, ...(windowMs ? { rateLimiterAlgorithm: 'rollingWindow', rollingWindowSize: windowMs } : {}) });
    if (sandbox) {
      if (!(ex.urls as Record<string, unknown>).test) throw invalidField('testnet', 'errors.exchanges.hasNoTestnetSandbox', { id });
      ex.setSandboxMode(true);
    }
    const override = exchangeUrlOverride(id, this.env);
    if (override) pointExchangeAt(ex, override);
    return ex;
  }

  /** The cached instance of a broker; `credentials` are read (from the SecretStore) only when new. */
  async forBroker(brokerId: string, id: string, sandbox: boolean, credentials: () => Promise<Credentials>): Promise<Exchange> {
    const key = `${brokerId}:${sandbox}`;
    let ex = this.instances.get(key);
    if (!ex) {
      ex = this.create(id, await credentials(), sandbox);
      this.instances.set(key, ex);
    }
    return ex;
  }

  /**
   * The cached paper instance of a paper broker: the exchange's real class without keys (public
   * market data through the usual URL overrides), its private methods answered by the paper account.
   */
  forPaper(brokerId: string, id: string, account: () => PaperAccount): Exchange {
    const key = `${brokerId}:false`;
    let ex = this.instances.get(key);
    if (!ex) {
      ex = makePaperExchange(this.create(id, {}, false), account());
      this.instances.set(key, ex);
    }
    return ex;
  }

  /** Whether a paper broker can trade on this exchange (CCXT reads its markets and tickers publicly). */
  hasPublicMarketData(id: string): boolean {
    return hasPublicMarketData(new (this.klass(id))({}));
  }

  /** Forget a broker's instance (its keys or mode changed, or it was deleted). */
  invalidate(brokerId: string): void {
    for (const k of [...this.instances.keys()]) if (k.startsWith(`${brokerId}:`)) this.instances.delete(k);
  }

  invalidateAll(): void {
    this.instances.clear();
  }

  /** Load markets once per exchange and mode; later instances get them handed over. */
  async loadMarkets(ex: Exchange, opts: { reload?: boolean } = {}): Promise<Record<string, Market>> {
    const key = `${ex.id}:${ex.isSandboxModeEnabled ? 'sandbox' : 'live'}`;
    if (opts.reload) this.markets.delete(key);
    let p = this.markets.get(key);
    if (!p) {
      p = this.run(ex.id, 'load markets', async () => {
        const markets = await ex.loadMarkets(true);
        return { markets, currencies: ex.currencies };
      });
      this.markets.set(key, p);
      p.catch(() => this.markets.delete(key));
    }
    const loaded = await p;
    if (ex.markets !== loaded.markets) ex.setMarkets(loaded.markets as unknown as Market[], loaded.currencies as never);
    return loaded.markets;
  }

  /** Run one exchange call, mapping its failure. */
  async run<T>(exchangeId: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const mapped = mapExchangeError(e, exchangeId, this.timeoutMs);
      this.log.warn({ exchange: exchangeId, what, code: mapped.code, err: mapped.message }, 'exchange call failed');
      throw mapped;
    }
  }
}
