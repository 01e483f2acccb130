/**
 * Which page may call the core over IPC (used by electron/main.ts; kept free of Electron so it is
 * tested here): our built renderer's index.html from file://, or in development the electron-vite
 * dev server's origin. Anything else — another file, a remote page, a data: URL — is refused.
 */
export function isOurPage(url: string, opts: { devServerUrl?: string; indexSuffix?: string } = {}): boolean {
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
  return u.protocol === 'file:' && u.host === '' && decodeURIComponent(u.pathname).endsWith(opts.indexSuffix ?? '/out/renderer/index.html');
}
