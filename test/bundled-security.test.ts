import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startBundledPostgres, type BundledPostgres } from '../electron/db/bundled';
import { silentLogger } from '../electron/log';

/**
 * The bundled PostgreSQL's superuser password (issue 8, items 1 and 2): never world-readable, not
 * even for an instant during the first start; renewed at every start; and the server's processes
 * get none of the app's settings in their environment.
 */
const isRoot = process.getuid?.() === 0;

/** A watcher of the temp folder as an unprivileged user (nobody) when we are root: what another local user could read. */
function watchTmp(): { stop(): Promise<Map<string, string>> } {
  const script = `
    const fs = require('node:fs'); const path = require('node:path'); const dir = ${JSON.stringify(tmpdir())};
    const seen = new Map();
    const grab = (n) => { const p = path.join(dir, n); try { const st = fs.statSync(p); if (st.isFile() && st.size < 4096) { const c = fs.readFileSync(p, 'utf8'); if (!seen.has(p) || seen.get(p) !== c) { seen.set(p, c); process.stdout.write(JSON.stringify([p, c]) + '\\n'); } } } catch {} };
    const before = new Set(fs.readdirSync(dir));
    fs.watch(dir, (_e, n) => { if (n) grab(n); });
    setInterval(() => { for (const n of fs.readdirSync(dir)) if (!before.has(n)) grab(n); }, 2);
    process.stdout.write('"ready"\\n');
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], ...(isRoot ? { uid: 65534, gid: 65534 } : {}) });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return {
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const files = new Map<string, string>();
      for (const line of out.split('\n').filter(Boolean)) {
        const v = JSON.parse(line) as string | [string, string];
        if (Array.isArray(v)) files.set(v[0], v[1]);
      }
      return files;
    },
  };
}

async function canLogIn(port: number, password: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (e) {
    await c.end().catch(() => undefined);
    if ((e as { code?: string }).code === '28P01') return false;
    throw e;
  }
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const secretOf = (dataDir: string) => readFileSync(join(dataDir, 'pg-owner.secret'), 'utf8').trim();
const postgresPids = (rootPid: number) => {
  const pids = [rootPid];
  for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === rootPid) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
};

describe('the bundled PostgreSQL superuser password', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aristobot-pgsec-'));
  let server: BundledPostgres | null = null;
  const saved = { ...process.env };
  afterAll(async () => {
    await server?.stop();
    process.env = saved;
  });

  it('first start: nothing another user can read in /tmp lets them in; the secret stays 0600 in the private folder; the server sees none of the app settings', async () => {
    process.env.ARISTOBOT_TOKEN = 'token-that-must-not-leak-0123456789';
    process.env.ARISTOBOT_DATABASE_URL = '';
    process.env.ARISTOBOT_VAULT_PASSPHRASE = 'vault-passphrase-that-must-not-leak';
    const watcher = watchTmp();
    await new Promise((r) => setTimeout(r, 300)); // the watcher is listening
    server = await startBundledPostgres({ dataDir, log: silentLogger() });
    const seen = await watcher.stop();
    const password = secretOf(dataDir);
    expect(server.ownerUrl).toContain(encodeURIComponent(password));
    // What the unprivileged watcher read during the first start: none of it opens the server.
    expect([...seen.keys()].filter((f) => /pg-password/.test(f))).toEqual([]);
    for (const content of seen.values()) {
      for (const candidate of new Set([content.trim(), ...content.split(/\s+/)].filter(Boolean))) expect(await canLogIn(server.port, candidate)).toBe(false);
    }
    expect(await canLogIn(server.port, password)).toBe(true);
    // File modes: the secret file 0600; the data folder private; no init leftovers.
    expect(statSync(join(dataDir, 'pg-owner.secret')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077 & ~(isRoot ? 0o011 : 0)).toBe(0);
    expect(statSync(join(dataDir, 'pg')).mode & 0o777).toBe(0o700);
    expect(readdirSync(dataDir).sort()).toEqual(['pg', 'pg-owner.secret']);
    // The clear password is nowhere in the data folder but its own file (the server keeps a SCRAM verifier).
    const holders = allFiles(dataDir).filter((f) => readFileSync(f).includes(password));
    expect(holders).toEqual([join(dataDir, 'pg-owner.secret')]);
    // The PostgreSQL processes' environment holds none of the app's settings.
    const pids = postgresPids(server.pid!);
    expect(pids.length).toBeGreaterThan(1);
    for (const pid of pids) {
      let env: string;
      try {
        env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      expect(env).not.toContain('ARISTOBOT_');
      expect(env).not.toContain('must-not-leak');
    }
  });

  it('every start renews the password: the previous one (e.g. one read by someone before this fix) stops working', async () => {
    const first = secretOf(dataDir);
    await server!.stop();
    server = await startBundledPostgres({ dataDir, log: silentLogger() });
    const second = secretOf(dataDir);
    expect(second).not.toBe(first);
    expect(await canLogIn(server.port, first)).toBe(false);
    expect(await canLogIn(server.port, second)).toBe(true);
    expect(statSync(join(dataDir, 'pg-owner.secret')).mode & 0o777).toBe(0o600);
  });
});
