import type { Exchange } from 'ccxt';
import { AppError } from '../../shared/errors';
import type { Text } from '../../shared/i18n';

/**
 * Pointing a CCXT exchange at another base URL (the Binance-compatible simulator, a proxy): every
 * REST URL of the exchange keeps its path and gets the new origin, e.g.
 * `https://api.binance.com/api/v3` → `http://127.0.0.1:7700/api/v3`.
 *
 * Set per exchange id with `ARISTOBOT_EXCHANGE_URL_<id>` (e.g. `ARISTOBOT_EXCHANGE_URL_binance`).
 */

const ENV_PREFIX = 'ARISTOBOT_EXCHANGE_URL_';

/** Hosts that belong to Binance (spot, testnet, demo, futures, options, portfolio margin). */
const BINANCE_HOST = /(^|\.)(binance\.com|binance\.vision|binancefuture\.com|binance\.us)$/i;

/** Origins whose URLs this exchange's REST calls use (others, like docs or logos, are left alone). */
function ownsHost(exchangeId: string, host: string): boolean {
  if (exchangeId.startsWith('binance')) return BINANCE_HOST.test(host);
  return true;
}

/** `what`: an environment variable's name (as is), or a description by key. */
function normalizeBase(raw: string, what: string | Text): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new AppError('invalid_input', 'errors.exchanges.mustHttpSUrl', { what, raw });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AppError('invalid_input', 'errors.exchanges.mustHttpSUrl', { what, raw });
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** `ARISTOBOT_EXCHANGE_URL_<id>` (or its upper-case form), normalized; undefined when unset. */
export function exchangeUrlOverride(exchangeId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = `${ENV_PREFIX}${exchangeId}`;
  const upper = `${ENV_PREFIX}${exchangeId.toUpperCase()}`;
  const raw = env[name] ?? env[upper];
  if (raw === undefined || raw.trim() === '') return undefined;
  return normalizeBase(raw, env[name] !== undefined ? name : upper);
}

/** A CCXT url map: a URL string or nested objects of them. */
type UrlTree = unknown;

/** Rewrites the origin of every http(s) URL in a (nested) CCXT url map whose host the exchange owns. */
function rewrite(tree: UrlTree, exchangeId: string, base: string): UrlTree {
  if (typeof tree === 'string') {
    const m = /^https?:\/\/([^/?#]+)(.*)$/i.exec(tree);
    if (!m || m[1] === undefined) return tree;
    const host = m[1].replace(/:\d+$/, '');
    return ownsHost(exchangeId, host) ? `${base}${m[2] ?? ''}` : tree;
  }
  if (tree !== null && typeof tree === 'object' && !Array.isArray(tree)) {
    const out: Record<string, UrlTree> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = rewrite(v, exchangeId, base);
    return out;
  }
  return tree;
}

const MARKET_TYPE_BY_PATH: [string, string][] = [
  ['/api/', 'spot'],
  ['/sapi/', 'spot'],
  ['/fapi/', 'linear'],
  ['/dapi/', 'inverse'],
  ['/eapi/', 'option'],
  ['/papi/', 'portfolioMargin'],
];

interface BinanceLike {
  exceptions: Record<string, unknown>;
  getExceptionsByUrl?: (url: string | undefined, exactOrBroad: string) => Record<string, unknown>;
}

/**
 * CCXT's binance picks its market-specific error table (spot, linear, …) from the URL's host.
 * Behind another origin, choose it from the path instead, so errors map exactly as in production.
 */
function keepErrorMapping(exchange: Exchange, base: string): void {
  const ex = exchange as unknown as BinanceLike;
  const original = ex.getExceptionsByUrl;
  if (typeof original !== 'function') return;
  ex.getExceptionsByUrl = function (this: BinanceLike, url: string | undefined, exactOrBroad: string): Record<string, unknown> {
    if (url !== undefined && url.startsWith(`${base}/`)) {
      const path = url.slice(base.length);
      const type = MARKET_TYPE_BY_PATH.find(([prefix]) => path.startsWith(prefix))?.[1];
      const forType = type === undefined ? undefined : this.exceptions[type];
      if (forType !== null && typeof forType === 'object') {
        const table = (forType as Record<string, unknown>)[exactOrBroad];
        if (table !== null && typeof table === 'object') return table as Record<string, unknown>;
      }
      return {};
    }
    return original.call(this, url, exactOrBroad);
  };
}

/**
 * Sends the exchange's REST calls to `baseUrl` (paths kept). For Binance it also limits
 * `loadMarkets` to the spot exchangeInfo: no futures/options exchangeInfo, no sapi
 * capital/config (currencies) and no sapi margin pairs.
 */
export function pointExchangeAt(exchange: Exchange, baseUrl: string): void {
  const base = normalizeBase(baseUrl, { key: 'coreLast.url.exchangeBase' });
  const id = exchange.id;
  const urls = exchange.urls as Record<string, UrlTree>;
  for (const key of ['api', 'test', 'demo', 'apiBackup']) {
    if (key in urls) urls[key] = rewrite(urls[key], id, base);
  }
  // Sandbox mode swapped in the testnet map, which lacks some APIs (sapi); behind the override every
  // API goes to the same place, so fill the gaps from the production map.
  const api = urls.api;
  const backup = urls.apiBackup;
  if (api !== null && typeof api === 'object' && backup !== null && typeof backup === 'object') {
    const target = api as Record<string, UrlTree>;
    for (const [k, v] of Object.entries(backup as Record<string, UrlTree>)) if (!(k in target)) target[k] = v;
  }
  if (id === 'binance') {
    exchange.options['fetchMarkets'] = { types: ['spot'], loadAllOptions: false };
    exchange.options['fetchCurrencies'] = false;
    exchange.options['fetchMargins'] = false;
  }
  keepErrorMapping(exchange, base);
}
