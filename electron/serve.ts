import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, PROJECT_ROOT, securityWarnings } from './config';
import { CoreHost } from './core';
import { startHeadlessServer } from './transport/headless';

/**
 * `npm run serve`: the same core as the desktop app, headless. Serves the built renderer and the
 * WebSocket API on 127.0.0.1 (ARISTOBOT_HOST / ARISTOBOT_PORT), behind an access token (random per
 * start unless ARISTOBOT_TOKEN is set). Builds the renderer first when its build is missing or stale.
 */
function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const f of readdirSync(path)) if (f !== 'node_modules') m = Math.max(m, newestMtime(join(path, f)));
  return m;
}

async function ensureRendererBuilt(rendererDir: string): Promise<void> {
  const index = join(rendererDir, 'index.html');
  const sources = ['renderer', 'shared', 'vite.renderer.config.ts'].map((p) => join(PROJECT_ROOT, p)).filter(existsSync);
  const stale = !existsSync(index) || Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs;
  if (!stale) return;
  if (process.env.ARISTOBOT_NO_BUILD === '1') throw new Error('The renderer build is missing or stale and ARISTOBOT_NO_BUILD=1 forbids building it; run `npm run build`.');
  console.log('Building the renderer…');
  const { build } = await import('vite');
  const { rendererConfig } = await import('../vite.renderer.config');
  await build({ ...rendererConfig(), logLevel: 'warn' });
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(`Configuration error: ${(e as Error).message}`);
    process.exit(2);
  }
  delete process.env.ARISTOBOT_VAULT_PASSPHRASE; // read once; child processes (PostgreSQL) must not inherit it
  await ensureRendererBuilt(config.rendererDir);
  const host = new CoreHost(config, 'headless');
  await host.start();
  const status = await host.status();
  if (status.state === 'failed') {
    if (status.error?.code === 'already_running') {
      console.error(status.error.message);
      process.exit(3);
    }
    console.error(`The core did not start: ${status.error?.message}. The UI shows this with a Retry button.`);
  }
  const token = config.token ?? randomBytes(24).toString('base64url');
  const server = await startHeadlessServer({ host, token, listenHost: config.host, port: config.port, rendererDir: config.rendererDir });
  console.log(`Aristobot3 ${status.version} is running headless.`);
  console.log(`Open: ${server.url}?token=${token}`);
  console.log(`API:  ${server.url.replace('http', 'ws')}api (token required)`);
  for (const w of securityWarnings(config)) {
    console.warn(`Warning: ${w}`);
    host.log.warn(w);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping…`);
    await server.close();
    await host.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(`Aristobot3 failed to start: ${(e as Error).message}`);
  process.exit(1);
});
