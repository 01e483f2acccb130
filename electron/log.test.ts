import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log';

describe('logger', () => {
  it('redacts secret fields by name, at any of the first three levels', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-')), 'a.log');
    const log = createLogger({ file, level: 'info' });
    log.info({ password: 'p1-canary', broker: { apiKey: 'k1-canary', nested: { secret: 's1-canary' } }, credentials: { x: 'c1-canary' } }, 'hello');
    log.flush();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('hello');
    expect(text).toContain('[redacted]');
    expect(text).not.toMatch(/canary/);
  });

  it('writes rotated files into the data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const log = createLogger({ dir, level: 'info' });
    log.info({ token: 't-canary' }, 'to the file');
    await new Promise<void>((r) => log.flush(() => r()));
    for (let i = 0; i < 50 && !readdirSync(dir).some((f) => f.endsWith('.log')); i++) await new Promise((r) => setTimeout(r, 50));
    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^aristobot\.\d+\.log$/);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('to the file'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = readFileSync(join(dir, files[0]!), 'utf8');
    }
    expect(text).toContain('to the file');
    expect(text).not.toContain('t-canary');
  });

  it('keeps log files private: the folder 0700, every file 0600 (an older version\'s 0644 files tightened)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'logs-')), 'logs');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'old-version.log'), 'old\n', { mode: 0o644 });
    chmodSync(join(dir, 'old-version.log'), 0o644);
    const log = createLogger({ dir, level: 'info' });
    log.info('private');
    await new Promise<void>((r) => log.flush(() => r()));
    for (let i = 0; i < 50 && readdirSync(dir).filter((f) => f.endsWith('.log')).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(files.length).toBe(2);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of files) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    const single = join(mkdtempSync(join(tmpdir(), 'log-')), 'sub', 'one.log');
    createLogger({ file: single }).info('x');
    expect(statSync(single).mode & 0o777).toBe(0o600);
    expect(statSync(join(single, '..')).mode & 0o777).toBe(0o700);
  });
});
