import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devServerUrl, isAllowedExternal, isOurPage, permissionAllowed } from './ipc-guard';

const INDEX = '/opt/Aristobot3/resources/app.asar/out/renderer/index.html';

describe('IPC sender check', () => {
  it('accepts exactly our built index file (any hash route), nothing else', () => {
    expect(isOurPage('file:///opt/Aristobot3/resources/app.asar/out/renderer/index.html#/account', { indexFile: INDEX })).toBe(true);
    expect(isOurPage('file:///opt/Aristobot3/resources/app.asar/out/renderer/index.html', { indexFile: INDEX })).toBe(true);
    // another file whose path merely ends the same way (a download, a second copy) is not ours
    expect(isOurPage('file:///tmp/evil/out/renderer/index.html', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('file:///opt/Aristobot3/resources/app.asar/out/renderer/index.html?x=1', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('file:///opt/Aristobot3/resources/app.asar/out/renderer/other.html', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('file://remote-host/opt/Aristobot3/resources/app.asar/out/renderer/index.html', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('https://example.com/out/renderer/index.html', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('data:text/html,<script>1</script>', { indexFile: INDEX })).toBe(false);
    expect(isOurPage('not a url', { indexFile: INDEX })).toBe(false);
  });
  it('in development accepts only the dev server origin', () => {
    const dev = 'http://localhost:5173';
    expect(isOurPage('http://localhost:5173/#/account', { indexFile: INDEX, devServerUrl: dev })).toBe(true);
    expect(isOurPage('http://localhost:5174/', { indexFile: INDEX, devServerUrl: dev })).toBe(false);
    expect(isOurPage('file:///x/out/renderer/index.html', { indexFile: INDEX, devServerUrl: dev })).toBe(false);
  });
});

describe('ELECTRON_RENDERER_URL', () => {
  it('is honoured in a development build only, and only on a loopback http(s) address', () => {
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, false)).toBe('http://localhost:5173');
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'http://127.0.0.1:5173/' }, false)).toBe('http://127.0.0.1:5173/');
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, true)).toBeUndefined(); // packaged
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'https://evil.example' }, false)).toBeUndefined();
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'file:///tmp/x.html' }, false)).toBeUndefined();
    expect(devServerUrl({ ELECTRON_RENDERER_URL: 'garbage' }, false)).toBeUndefined();
    expect(devServerUrl({}, false)).toBeUndefined();
  });
});

describe('external links and permissions', () => {
  it('opens only allow-listed https URLs', () => {
    expect(isAllowedExternal('https://www.binance.com/en/my/settings/api-management')).toBe(true);
    expect(isAllowedExternal('https://docs.ccxt.com/#/')).toBe(true);
    expect(isAllowedExternal('http://www.binance.com/')).toBe(false);
    expect(isAllowedExternal('https://evil.example/')).toBe(false);
    expect(isAllowedExternal('https://www.binance.com.evil.example/')).toBe(false);
    expect(isAllowedExternal('https://user:pw@www.binance.com/')).toBe(false);
    expect(isAllowedExternal('https://www.binance.com:8443/')).toBe(false);
    for (const u of ['file:///etc/passwd', 'smb://host/share', 'ms-msdt:/id', 'javascript:alert(1)', 'nonsense']) expect(isAllowedExternal(u)).toBe(false);
  });
  it('grants no web permission', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb']) expect(permissionAllowed(p)).toBe(false);
  });
});

describe('packaging and page policy (read, not run)', () => {
  const ROOT = resolve(import.meta.dirname, '..');
  it('electron-builder.yml sets the Electron fuses, with names electron-builder’s schema knows', () => {
    const yaml = createRequire(import.meta.url)('js-yaml') as { load(s: string): unknown };
    const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as { electronFuses?: Record<string, boolean> };
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    const scheme = JSON.parse(readFileSync(join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as { definitions: { FuseOptionsV1: { properties: Record<string, { type: string }> } } };
    for (const k of Object.keys(config.electronFuses!)) expect(scheme.definitions.FuseOptionsV1.properties[k]?.type, k).toBe('boolean');
  });
  it('the page’s CSP lets it connect to its own origin only', () => {
    const html = readFileSync(join(ROOT, 'renderer/index.html'), 'utf8');
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toMatch(/connect-src 'self';/);
    expect(csp).not.toMatch(/ws:|wss:|\*/);
  });
  it('main.ts wires these checks (the ones that cannot run here)', () => {
    const main = readFileSync(join(ROOT, 'electron/main.ts'), 'utf8');
    expect(main).toContain('devServerUrl(process.env, app.isPackaged)');
    expect(main).toContain('setPermissionRequestHandler');
    expect(main).toContain('setPermissionCheckHandler');
    expect(main).toMatch(/isAllowedExternal\(url\)\) void shell\.openExternal/);
    expect(main).not.toContain('process.env.ELECTRON_RENDERER_URL');
  });
});
