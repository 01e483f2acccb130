import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Settings from the environment (`ARISTOBOT_*`, each documented in the README). Defaults live here;
 * profile settings sit in the database; environment variables override both.
 */
export interface Config {
  dataDir: string;
  databaseUrl: string | null;
  debugAvailable: boolean;
  host: string;
  port: number;
  token: string | null;
  secrets: 'auto' | 'keychain' | 'vault';
  vaultPassphrase: string | null;
  logLevel: string;
  logToFile: boolean;
  exchangeTimeoutMs: number;
  /** Run the heartbeat (Binance stream) at start; ARISTOBOT_HEARTBEAT=off disables it. */
  heartbeat: boolean;
  migrationsDir: string;
  rendererDir: string;
  /** The webhook listener (TradingView alerts): address, port (0 = any free port). */
  webhookHost: string;
  webhookPort: number;
  /** How often webhook stop-losses / take-profits and missed PINGs are checked (ms). */
  webhookWatchMs: number;
  /** Honour X-Forwarded-For from loopback connections (a reverse proxy on this machine). */
  webhookTrustProxy: boolean;
  /** AI assistant: give up on a provider that sends nothing for this long (ARISTOBOT_AI_TIMEOUT_MS). */
  aiTimeoutMs: number;
  /** OpenRouter's API base (ARISTOBOT_AI_OPENROUTER_URL; tests point it at the stub). */
  aiOpenrouterUrl: string;
  /** A strategy check taking longer is stopped and its worker replaced (ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS). */
  strategyCheckTimeoutMs: number;
  /** Memory made ready at start for backtests of up to this many candles (ARISTOBOT_BACKTEST_RESERVE_CANDLES; ~81 bytes a candle). */
  backtestReserveCandles: number;
}

/** The OS's per-user application-data folder (the same one Electron's `userData` uses). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const app = 'Aristobot3';
  if (process.platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), app);
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', app);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), app);
}

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

function intEnv(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0–65535), got "${v}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, root = PROJECT_ROOT): Config {
  const secrets = (env.ARISTOBOT_SECRETS_BACKEND || 'auto') as Config['secrets'];
  if (!['auto', 'keychain', 'vault'].includes(secrets)) throw new Error(`ARISTOBOT_SECRETS_BACKEND must be auto, keychain or vault, got "${secrets}"`);
  const timeout = Number(env.ARISTOBOT_EXCHANGE_TIMEOUT_MS || 10_000);
  if (!Number.isInteger(timeout) || timeout < 100) throw new Error(`ARISTOBOT_EXCHANGE_TIMEOUT_MS must be a whole number of milliseconds ≥ 100, got "${env.ARISTOBOT_EXCHANGE_TIMEOUT_MS}"`);
  const watchMs = Number(env.ARISTOBOT_WEBHOOK_WATCH_MS || 3000);
  if (!Number.isInteger(watchMs) || watchMs < 0) throw new Error(`ARISTOBOT_WEBHOOK_WATCH_MS must be a whole number of milliseconds (0 = never), got "${env.ARISTOBOT_WEBHOOK_WATCH_MS}"`);
  const aiTimeout = Number(env.ARISTOBOT_AI_TIMEOUT_MS || 60_000);
  if (!Number.isInteger(aiTimeout) || aiTimeout < 100) throw new Error(`ARISTOBOT_AI_TIMEOUT_MS must be a whole number of milliseconds ≥ 100, got "${env.ARISTOBOT_AI_TIMEOUT_MS}"`);
  const checkTimeout = Number(env.ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS || 30_000);
  if (!Number.isInteger(checkTimeout) || checkTimeout < 100) throw new Error(`ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS must be a whole number of milliseconds ≥ 100, got "${env.ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS}"`);
  const reserve = Number(env.ARISTOBOT_BACKTEST_RESERVE_CANDLES || 1_000_000);
  if (!Number.isInteger(reserve) || reserve < 0 || reserve > 50_000_000) throw new Error(`ARISTOBOT_BACKTEST_RESERVE_CANDLES must be a whole number of candles from 0 to 50000000, got "${env.ARISTOBOT_BACKTEST_RESERVE_CANDLES}"`);
  return {
    dataDir: resolve(env.ARISTOBOT_DATA_DIR || defaultDataDir(env)),
    databaseUrl: env.ARISTOBOT_DATABASE_URL || null,
    debugAvailable: env.ARISTOBOT_DEBUG === '1',
    host: env.ARISTOBOT_HOST || '127.0.0.1',
    port: intEnv(env.ARISTOBOT_PORT, 'ARISTOBOT_PORT', 7300),
    token: env.ARISTOBOT_TOKEN || null,
    secrets,
    vaultPassphrase: env.ARISTOBOT_VAULT_PASSPHRASE || null,
    logLevel: env.ARISTOBOT_LOG_LEVEL || 'info',
    logToFile: env.ARISTOBOT_LOG_FILE !== '0',
    exchangeTimeoutMs: timeout,
    heartbeat: !['off', '0', 'false'].includes((env.ARISTOBOT_HEARTBEAT ?? '').toLowerCase()),
    migrationsDir: join(root, 'migrations'),
    rendererDir: join(root, 'out', 'renderer'),
    webhookHost: env.ARISTOBOT_WEBHOOK_HOST || '127.0.0.1',
    webhookPort: intEnv(env.ARISTOBOT_WEBHOOK_PORT, 'ARISTOBOT_WEBHOOK_PORT', 8765),
    webhookWatchMs: watchMs,
    webhookTrustProxy: env.ARISTOBOT_WEBHOOK_TRUST_PROXY === '1',
    aiTimeoutMs: aiTimeout,
    aiOpenrouterUrl: env.ARISTOBOT_AI_OPENROUTER_URL || 'https://openrouter.ai/api/v1',
    strategyCheckTimeoutMs: checkTimeout,
    backtestReserveCandles: reserve,
  };
}

/** Below this many characters an ARISTOBOT_TOKEN is called weak (the random default has 32). */
export const MIN_TOKEN_LENGTH = 32;

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** What `npm run serve` warns about at start: a weak chosen token, or the plain-HTTP API reachable from the network. */
export function securityWarnings(config: Pick<Config, 'token' | 'host'>): string[] {
  const out: string[] = [];
  if (config.token !== null && config.token.length < MIN_TOKEN_LENGTH) {
    out.push(`ARISTOBOT_TOKEN is weak (${config.token.length} characters): use at least ${MIN_TOKEN_LENGTH} random characters, or leave it unset for a random token per start.`);
  }
  if (!isLoopback(config.host)) {
    out.push(`ARISTOBOT_HOST=${config.host} exposes the API beyond this machine over plain HTTP: the access token and everything else travel unencrypted. Keep 127.0.0.1 and use an SSH tunnel, or put an HTTPS reverse proxy in front.`);
  }
  return out;
}
