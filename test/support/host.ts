import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { WireEvent } from '../../shared/contract';
import { loadConfig, type Config } from '../../electron/config';
import { CoreHost } from '../../electron/core';
import { createLogger } from '../../electron/log';
import { startHeadlessServer, type HeadlessServer } from '../../electron/transport/headless';
import { createTestDb, TEST_APP_PASSWORD, type TestDb } from './db';

export interface TestHost {
  host: CoreHost;
  server: HeadlessServer;
  token: string;
  db: TestDb;
  config: Config;
  logFile: string;
  logText(): string;
  client(): Promise<WsClient>;
  close(): Promise<void>;
}

type Reply = { id: number | string | null; result?: unknown; error?: { code: string; message: string; key?: string; params?: Record<string, string>; details?: unknown } };

/** A scripted API client over the real WebSocket transport (what a headless user writes). */
export class WsClient {
  private nextId = 1;
  private readonly waiting = new Map<number | string | null, (r: Reply) => void>();
  readonly events: WireEvent[] = [];
  readonly stray: Reply[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Reply & Partial<WireEvent>;
      if (typeof msg.event === 'string') {
        this.events.push({ event: msg.event, data: msg.data });
        return;
      }
      const w = this.waiting.get(msg.id ?? null);
      if (w) {
        this.waiting.delete(msg.id ?? null);
        w(msg);
      } else this.stray.push(msg);
    });
  }
  static connect(url: string, headers: Record<string, string> = {}, protocols: string[] = []): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  /** The raw reply `{ id, result } | { id, error }`. */
  request(method: string, params?: unknown): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  /** The result, or throws an Error carrying `code`. */
  async call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code, key: r.error.key, params: r.error.params, details: r.error.details });
    return r.result as T;
  }
  sendRaw(data: string): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.set(null, resolve);
      this.ws.send(data);
    });
  }
  async waitForEvent(name: string, timeoutMs = 5000): Promise<WireEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.event === name);
      if (e) return e;
      if (Date.now() > until) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  close(): void {
    this.ws.close();
  }
}

/** A real core (on a fresh test database, "external" mode) behind the real headless transport. */
export async function startTestHost(env: Record<string, string> = {}): Promise<TestHost> {
  const db = await createTestDb();
  const dataDir = mkdtempSync(join(tmpdir(), 'aristobot-host-'));
  const config = { ...loadConfig({ ARISTOBOT_DATA_DIR: dataDir, ARISTOBOT_DATABASE_URL: db.ownerUrl, ARISTOBOT_LOG_FILE: '0', ARISTOBOT_HEARTBEAT: 'off', ...env }) };
  const logFile = join(dataDir, 'test.log');
  const host = new CoreHost(config, 'headless', createLogger({ file: logFile, level: 'debug' }), { appPassword: TEST_APP_PASSWORD });
  await host.start();
  const token = 'test-token-' + Math.random().toString(36).slice(2);
  const server = await startHeadlessServer({ host, token, listenHost: '127.0.0.1', port: 0, rendererDir: config.rendererDir });
  return {
    host,
    server,
    token,
    db,
    config,
    logFile,
    logText: () => readFileSync(logFile, 'utf8'),
    client: () => WsClient.connect(`ws://127.0.0.1:${server.port}/api?token=${token}`),
    close: async () => {
      await server.close();
      await host.stop();
      await db.close();
    },
  };
}
