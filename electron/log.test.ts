import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
});
