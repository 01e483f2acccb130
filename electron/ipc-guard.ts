import { pathToFileURL } from 'node:url';

/**
 * The Electron shell's security decisions, kept free of Electron so they are tested here (used by
 * electron/main.ts, which cannot run on a machine without a display).
 */

/**
 * The electron-vite dev server URL, honoured in a development build only (`!app.isPackaged`) and
 * only on a loopback http(s) address: in a packaged app an `ELECTRON_RENDERER_URL` from the
 * environment would load (and admit to the IPC bridge) any page.
 */
export function devServerUrl(env: NodeJS.ProcessEnv, isPackaged: boolean): string | undefined {
  const raw = env.ELECTRON_RENDERER_URL;
  if (isPackaged || !raw) return undefined;
  try {
    const u = new URL(raw);
    const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
    return (u.protocol === 'http:' || u.protocol === 'https:') && loopback ? raw : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which page may call the core over IPC: exactly our built renderer's index file (any hash route,
 * no query), or in development the dev server's origin. Anything else — another file, a remote
 * page, a data: URL — is refused.
 */
export function isOurPage(url: string, opts: { indexFile: string; devServerUrl?: string }): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (opts.devServerUrl) {
    try {
      return u.origin === new URL(opts.devServerUrl).origin;
    } catch {
      return false;
    }
  }
  const index = pathToFileURL(opts.indexFile);
  return u.protocol === 'file:' && u.host === '' && u.search === '' && decodeURIComponent(u.pathname) === decodeURIComponent(index.pathname);
}

/** Hosts the app may open in the system browser (links in the UI: exchange sites, documentation). */
export const EXTERNAL_HOSTS = ['binance.com', 'www.binance.com', 'testnet.binance.vision', 'docs.ccxt.com', 'github.com', 'www.tradingview.com'];

/** `shell.openExternal` only for https URLs on an allow-listed host (no file:, smb:, custom schemes). */
export function isAllowedExternal(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.username === '' && u.password === '' && u.port === '' && hosts.includes(u.hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** Web permissions (camera, notifications, geolocation, clipboard read, …): the app needs none. */
export function permissionAllowed(_permission: string): boolean {
  return false;
}
