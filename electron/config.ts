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
  /** AI assistant: give up on a provider that sends nothing for this long (ARISTOBOT_AI_TIMEOUT_MS). */
  aiTimeoutMs: number;
  /** OpenRouter's API base (ARISTOBOT_AI_OPENROUTER_URL; tests point it at the stub). */
  aiOpenrouterUrl: string;
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
  const aiTimeout = Number(env.ARISTOBOT_AI_TIMEOUT_MS || 60_000);
  if (!Number.isInteger(aiTimeout) || aiTimeout < 100) throw new Error(`ARISTOBOT_AI_TIMEOUT_MS must be a whole number of milliseconds ≥ 100, got "${env.ARISTOBOT_AI_TIMEOUT_MS}"`);
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
    aiTimeoutMs: aiTimeout,
    aiOpenrouterUrl: env.ARISTOBOT_AI_OPENROUTER_URL || 'https://openrouter.ai/api/v1',
  };
}
