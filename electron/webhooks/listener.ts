import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log';
import { MAX_BODY } from './payload';

/**
 * The webhook listener: a plain `node:http` server, separate from the headless UI server. It only
 * routes `POST /webhook/<token>`, reads at most 64 KB, and hands the request to the service, which
 * journals it and answers at once. It survives any body, header or connection behaviour: bodies too
 * large are cut off (413), malformed requests get a 400 from Node's parser, slow senders time out,
 * early disconnects are ignored. Requests that name no profile are counted, not stored.
 */

export interface IncomingAlert {
  token: string;
  /** The caller's address (X-Forwarded-For's last hop when the request came through the local tunnel or a trusted proxy). */
  ip: string | null;
  /** The socket's own peer address. */
  peer: string | null;
  contentType: string | undefined;
  body: string;
}

export interface AlertAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface ListenerCounters {
  /** Requests on a path that is not `/webhook/<known token>` (404), or not a POST (405). */
  notFound: number;
  methodNotAllowed: number;
  /** Bodies over 64 KB (413): counted, nothing stored. */
  tooLarge: number;
  /** Requests Node's HTTP parser refused, connections that closed before the body was complete, timeouts. */
  malformed: number;
  aborted: number;
  /** Handed to the service (journaled by it). */
  handled: number;
}

export interface ListenerOptions {
  host: string;
  port: number;
  log: Logger;
  handle(a: IncomingAlert): Promise<AlertAnswer>;
  /** Whether a token names a profile (unknown tokens are answered 404 before the body is read). */
  knows(token: string): boolean;
  /** Honour X-Forwarded-For on loopback connections (the local tunnel, a reverse proxy on this machine). */
  trustForwarded(): boolean;
}

const TOKEN = /^\/webhook\/([A-Za-z0-9_-]{16,128})\/?$/;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function send(res: ServerResponse, status: number, body: Record<string, unknown>, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...extra });
  res.end(text);
}

export class WebhookListener {
  readonly counters: ListenerCounters = { notFound: 0, methodNotAllowed: 0, tooLarge: 0, malformed: 0, aborted: 0, handled: 0 };
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Sockets that carried a request (its outcome is counted or journaled by the request itself). */
  private readonly used = new WeakSet<Socket>();
  private boundPort: number | null = null;

  constructor(private readonly opts: ListenerOptions) {}

  get running(): boolean {
    return this.server !== null;
  }
  get port(): number | null {
    return this.boundPort;
  }
  get host(): string {
    return this.opts.host;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        // Never a crash, and never a 5xx for what a sender did: this is our own failure.
        this.opts.log.error({ err: (e as Error).message }, 'webhook request failed inside the app');
        send(res, 503, { ok: false, status: 'error', reason: 'The app could not record the request; try again.' });
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        // A reset after a request was answered (the sender stopped sending a refused body) is no new request.
        if (!this.used.has(socket)) this.counters.aborted++;
        socket.destroy();
        return;
      }
      this.counters.malformed++;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.opts.log.error({ err: e.message }, 'webhook listener error'));
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.opts.log.info({ host: this.opts.host, port: this.boundPort }, 'webhook listener started');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.boundPort = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 2000).unref();
    });
    this.opts.log.info('webhook listener stopped');
  }

  private callerIp(req: IncomingMessage): string | null {
    const peer = req.socket.remoteAddress ?? null;
    if (peer && LOOPBACK.has(peer) && this.opts.trustForwarded()) {
      const xff = req.headers['x-forwarded-for'];
      const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((x) => x.trim()).filter(Boolean);
      const last = list.at(-1);
      if (last && /^[0-9a-fA-F:.]{2,45}$/.test(last)) return last;
    }
    return peer;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => undefined);
    this.used.add(req.socket);
    const path = (req.url ?? '/').split('?')[0]!;
    const m = TOKEN.exec(path);
    if (!m || !this.opts.knows(m[1]!)) {
      this.counters.notFound++;
      req.resume();
      return send(res, 404, { ok: false, status: 'not_found', reason: 'No webhook at this address. Copy the URL from the Webhooks page.' });
    }
    if (req.method !== 'POST') {
      this.counters.methodNotAllowed++;
      req.resume();
      return send(res, 405, { ok: false, status: 'method_not_allowed', reason: 'Send the alert with POST.' }, { Allow: 'POST' });
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY) {
      this.counters.tooLarge++;
      req.resume();
      return send(res, 413, { ok: false, status: 'too_large', reason: `The body is larger than ${MAX_BODY / 1024} KB.` }, { Connection: 'close' });
    }
    const body = await new Promise<string | 'too_large' | 'aborted'>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (v: string | 'too_large' | 'aborted') => {
        if (!done) {
          done = true;
          resolve(v);
        }
      };
      req.on('data', (c: Buffer) => {
        if (done) return;
        size += c.length;
        if (size > MAX_BODY) {
          finish('too_large');
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
      req.on('aborted', () => finish('aborted'));
      req.on('close', () => finish(req.complete ? Buffer.concat(chunks).toString('utf8') : 'aborted'));
    });
    if (body === 'aborted') {
      this.counters.aborted++;
      return;
    }
    if (body === 'too_large') {
      this.counters.tooLarge++;
      send(res, 413, { ok: false, status: 'too_large', reason: `The body is larger than ${MAX_BODY / 1024} KB.` }, { Connection: 'close' });
      req.resume();
      return;
    }
    this.counters.handled++;
    const answer = await this.opts.handle({ token: m[1]!, ip: this.callerIp(req), peer: req.socket.remoteAddress ?? null, contentType: req.headers['content-type'], body });
    send(res, answer.status, answer.body);
  }
}
