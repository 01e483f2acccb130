import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, inject } from 'vitest';
import { loadConfig } from '../electron/config';
import { acquireInstanceLock, CoreHost } from '../electron/core';
import { processCommand, recoverStaleServer } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { silentLogger } from '../electron/log';
import { asOwner, createTestDb, MIGRATIONS_DIR, TEST_APP_PASSWORD } from './support/db';

const tmp = () => mkdtempSync(join(tmpdir(), 'aristobot-start-'));

describe('startup failures', () => {
  it('an unreachable external database gives a clear failure naming the URL (password hidden), and no crash', async () => {
    const url = 'postgres://someone:s3cret-pw@127.0.0.1:1/aristobot';
    const host = new CoreHost(loadConfig({ ARISTOBOT_DATA_DIR: tmp(), ARISTOBOT_DATABASE_URL: url, ARISTOBOT_LOG_FILE: '0' }), 'headless', silentLogger(), { appPassword: TEST_APP_PASSWORD });
    await host.start();
    const s = await host.status();
    expect(s.state).toBe('failed');
    expect(s.error?.code).toBe('unavailable');
    expect(s.error?.message).toContain('postgres://someone:****@127.0.0.1:1/aristobot');
    expect(s.error?.message).toContain('connection refused');
    expect(JSON.stringify(s)).not.toContain('s3cret-pw');
    const session = host.sessions.open();
    expect(await host.call('profiles.list', {}, session)).toEqual({ error: expect.objectContaining({ code: 'unavailable' }) });
    expect((await host.call('app.retry', {}, session)) as { result: { state: string } }).toMatchObject({ result: { state: 'failed' } });
    await host.stop();
  });

  it('retry succeeds once the database becomes available', async () => {
    const name = `late_${Math.random().toString(36).slice(2, 8)}`;
    const u = new URL(inject('pgOwnerUrl'));
    u.pathname = `/${name}`;
    const host = new CoreHost(loadConfig({ ARISTOBOT_DATA_DIR: tmp(), ARISTOBOT_DATABASE_URL: u.toString(), ARISTOBOT_LOG_FILE: '0' }), 'headless', silentLogger(), { appPassword: TEST_APP_PASSWORD });
    await host.start();
    expect((await host.status()).error?.message).toContain('the database does not exist');
    const admin = new pg.Client({ connectionString: inject('pgOwnerUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const session = host.sessions.open();
    expect(await host.call('app.retry', {}, session)).toMatchObject({ result: { state: 'ready', error: null } });
    expect(await host.call('profiles.list', {}, session)).toEqual({ result: [] });
    await host.stop();
  });

  it('refuses to start when an applied migration file was changed', async () => {
    const t = await createTestDb();
    await t.close();
    await asOwner(t.ownerUrl, (c) => c.query("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE id = 1"));
    await expect(Database.open({ ownerUrl: t.ownerUrl, migrationsDir: MIGRATIONS_DIR, log: silentLogger(), appPassword: TEST_APP_PASSWORD })).rejects.toThrow(
      /0001_init\.sql was changed after it was applied/,
    );
  });

  it('migrations are idempotent: opening twice applies nothing new', async () => {
    const t = await createTestDb();
    await t.close();
    const db = await Database.open({ ownerUrl: t.ownerUrl, migrationsDir: MIGRATIONS_DIR, log: silentLogger(), appPassword: TEST_APP_PASSWORD });
    await db.close();
    const rows = (await asOwner(t.ownerUrl, (c) => c.query('SELECT id FROM schema_migrations ORDER BY id'))).rows.map((r) => r.id);
    expect(rows[0]).toBe(1);
    expect(new Set(rows).size).toBe(rows.length);
  });
});

describe('one app per database', () => {
  it('a second core on the same external database is refused before it touches the app role', async () => {
    const t = await createTestDb();
    await t.close();
    const cfg = () => loadConfig({ ARISTOBOT_DATA_DIR: tmp(), ARISTOBOT_DATABASE_URL: t.ownerUrl, ARISTOBOT_LOG_FILE: '0', ARISTOBOT_HEARTBEAT: 'off' });
    const first = new CoreHost(cfg(), 'headless', silentLogger(), { appPassword: TEST_APP_PASSWORD });
    await first.start();
    expect((await first.status()).state).toBe('ready');
    const second = new CoreHost(cfg(), 'headless', silentLogger(), { appPassword: 'another-password' });
    await second.start();
    expect((await second.status()).error).toMatchObject({ code: 'already_running', message: expect.stringContaining('Another Aristobot3 is already using the database') });
    // the first still works, on fresh connections too
    const s = first.sessions.open();
    await first.services!.db.pool.query('SELECT 1');
    expect(await first.call('profiles.create', { name: 'Still', password: 'pw-12345' }, s)).toMatchObject({ result: { name: 'Still' } });
    await second.stop();
    await first.stop();
    // once the first has stopped, another may start
    const third = new CoreHost(cfg(), 'headless', silentLogger(), { appPassword: TEST_APP_PASSWORD });
    await third.start();
    expect((await third.status()).state).toBe('ready');
    await third.stop();
  });
});

describe('instance lock', () => {
  it('refuses a second instance on the same data folder while the first lives, takes over a stale lock', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'aristobot.lock'), String(process.ppid)); // a live process that is not us
    expect(() => acquireInstanceLock(dir)).toThrow(/already running/);
    writeFileSync(join(dir, 'aristobot.lock'), '2147483646'); // no such process
    const release = acquireInstanceLock(dir);
    release();
  });

  it('a pid reused by an unrelated program is neither obeyed nor signalled', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const dir = tmp();
      writeFileSync(join(dir, 'aristobot.lock'), String(other.pid));
      acquireInstanceLock(dir)(); // stale: `sleep` is not an Aristobot3
      const pgDir = join(dir, 'pg');
      mkdirSync(pgDir);
      writeFileSync(join(pgDir, 'postmaster.pid'), `${other.pid}\n${pgDir}\n`);
      await recoverStaleServer(pgDir, silentLogger());
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
      expect(processCommand(other.pid!)).toContain('sleep');
    } finally {
      other.kill();
    }
  });
});
