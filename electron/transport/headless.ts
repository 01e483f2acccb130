import { timingSafeEqual, createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WireReply } from '../../shared/contract';
import { errorPayload } from '../../shared/errors';
import type { Session } from '../api/dispatch';
import type { CoreHost } from '../core';

/**
 * The headless shell's transport: the built renderer over HTTP and the API over a WebSocket at
 * `/api`, refused (401) without the access token.
 *
 * The renderer's files hold no secret and are served to anyone who can reach the port. The
 * credential is the access token alone, never a cookie: browsers do not separate cookies by port,
 * so a cookie set by 127.0.0.1:7300 would be sent to (read by) every other web server on
 * 127.0.0.1, and a page from another port could set a same-name cookie that shadows it. The page
 * takes `?token=` once, keeps it in `sessionStorage` (scoped to scheme, host AND port), drops it from
 * the address bar, and hands it to the socket as a WebSocket subprotocol
 * (`aristobot.token.<base64url>`, beside `aristobot`, the one the server selects and echoes).
 * Scripts send `?token=` or `Authorization: Bearer`. Browser sockets must also come from our own
 * origin (no cross-site socket hijacking). Wrong tokens are slowed down per remote address.
 */
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
/** The subprotocol the server selects; the token rides in a second one (never echoed back). */
export const WS_PROTOCOL = 'aristobot';
export const WS_TOKEN_PREFIX = 'aristobot.token.';
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface HeadlessServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The request's path and query, or null when the target is not a parseable path (e.g. `//`). */
export function parseTarget(raw: string | undefined): { path: string; query: URLSearchParams } | null {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//')) return null;
  try {
    const u = new URL(raw, 'http://localhost');
    return { path: decodeURIComponent(u.pathname), query: u.searchParams };
  } catch {
    return null;
  }
}

/** The token of a socket request: `?token=`, `Authorization: Bearer`, or the `aristobot.token.*` subprotocol. Cookies are ignored. */
export function tokenOf(req: Pick<IncomingMessage, 'headers'>, query: URLSearchParams): string | null {
  const q = query.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const proto = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(WS_TOKEN_PREFIX));
  if (proto) return Buffer.from(proto.slice(WS_TOKEN_PREFIX.length), 'base64url').toString('utf8') || null;
  return null;
}

/**
 * Per remote address: after `free` wrong tokens, each further attempt from that address waits out a
 * doubling pause (up to `maxMs`) and is answered 429 meanwhile, without the token being looked at
 * (so a guess cannot be tested during the pause). A right token clears the address's count.
 */
export class TokenBackoff {
  private readonly failures = new Map<string, { count: number; until: number }>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly free = 5,
    private readonly baseMs = 1000,
    private readonly maxMs = 60_000,
  ) {}
  /** Milliseconds this address must still wait (0: it may try). */
  waitMs(addr: string): number {
    const f = this.failures.get(addr);
    return f ? Math.max(0, f.until - this.now()) : 0;
  }
  fail(addr: string): void {
    const f = this.failures.get(addr) ?? { count: 0, until: 0 };
    f.count++;
    f.until = f.count > this.free ? this.now() + Math.min(this.maxMs, this.baseMs * 2 ** (f.count - this.free - 1)) : 0;
    this.failures.set(addr, f);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }
  succeed(addr: string): void {
    this.failures.delete(addr);
  }
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
}

export async function startHeadlessServer(opts: { host: CoreHost; token: string; listenHost: string; port: number; rendererDir: string; backoff?: TokenBackoff }): Promise<HeadlessServer> {
  const { host, token, rendererDir } = opts;
  const log = host.log;
  const backoff = opts.backoff ?? new TokenBackoff();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    securityHeaders(res);
    const target = parseTarget(req.url);
    if (!target) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('400 Bad Request\n');
      return;
    }
    // The renderer's files hold no secret: served without a credential (the page keeps the token).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const path = target.path;
    let file = normalize(join(rendererDir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(rendererDir + sep) && file !== rendererDir) {
      res.writeHead(403).end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(rendererDir, 'index.html'); // SPA fallback
    if (!existsSync(file)) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('The renderer is not built: run `npm run build`.\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'HTTP request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  // A browser offers [`aristobot`, `aristobot.token.…`]: select `aristobot` (never the token's).
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });
  const sockets = new Map<WebSocket, Session>();

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    const refuse = (status: string, extra = '') => {
      socket.write(`HTTP/1.1 ${status}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    const target = parseTarget(req.url);
    const origin = req.headers.origin;
    // Another site's page (or a request for another path) is refused before the token is looked at,
    // and does not count as a guess: a web page cannot pause the owner's access by failing on purpose.
    if (!target || target.path !== '/api' || (origin !== undefined && origin !== `http://${req.headers.host}`)) return refuse('401 Unauthorized');
    const given = tokenOf(req, target.query);
    if (given === null) return refuse('401 Unauthorized');
    const addr = req.socket.remoteAddress ?? '?';
    const wait = backoff.waitMs(addr);
    if (wait > 0) return refuse('429 Too Many Requests', `Retry-After: ${Math.ceil(wait / 1000)}\r\n`);
    if (!sameToken(given, token)) {
      backoff.fail(addr);
      log.warn({ remote: addr }, 'headless API: wrong access token');
      return refuse('401 Unauthorized');
    }
    backoff.succeed(addr);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const session = host.sessions.open();
    sockets.set(ws, session);
    const send = (msg: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    ws.on('message', async (raw, isBinary) => {
      let msg: { id?: unknown; method?: unknown; params?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        msg = JSON.parse(raw.toString());
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('not an object');
      } catch {
        send({ id: null, error: errorPayload('invalid_input', 'errors.api.malformedMessage') } satisfies WireReply);
        return;
      }
      const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
      if (typeof msg.method !== 'string') {
        send({ id, error: errorPayload('invalid_input', 'errors.api.methodNotString') } satisfies WireReply);
        return;
      }
      try {
        const r = await host.call(msg.method, msg.params, session);
        send({ id, ...r } as WireReply);
      } catch (e) {
        log.error({ err: (e as Error).message, method: msg.method }, 'transport call failed');
        send({ id, error: errorPayload('internal', 'errors.api.transportInternal') } satisfies WireReply);
      }
    });
    ws.on('close', () => {
      host.sessions.close(session);
      sockets.delete(ws);
    });
    ws.on('error', () => undefined);
  });

  const off = host.bus.on((e) => {
    const frame = JSON.stringify({ event: e.event, data: e.data });
    for (const [ws, s] of sockets) {
      if (!s.subscriptions.has(e.event)) continue;
      if (e.profileId && s.profile?.id !== e.profileId) continue;
      if (ws.readyState === ws.OPEN) ws.send(frame);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`Port ${opts.port} on ${opts.listenHost} is already in use; set ARISTOBOT_PORT to another port (or 0 for any free port).`) : e),
    );
    server.listen(opts.port, opts.listenHost, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shownHost = opts.listenHost.includes(':') ? `[${opts.listenHost}]` : opts.listenHost;
  return {
    port,
    url: `http://${shownHost}:${port}/`,
    close: async () => {
      off();
      for (const ws of sockets.keys()) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
