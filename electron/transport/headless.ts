import { timingSafeEqual, createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WireReply } from '../../shared/contract';
import type { Session } from '../api/dispatch';
import type { CoreHost } from '../core';

/**
 * The headless shell's transport: the built renderer over HTTP and the API over a WebSocket at
 * `/api`, both refused (401) without the access token (`?token=`, `Authorization: Bearer`, or the
 * HttpOnly cookie the first authorised page load sets). Browser WebSockets must also come from our
 * own origin (no cross-site socket hijacking).
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
const COOKIE = 'aristobot_token';
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

function tokenOf(req: IncomingMessage, query: URLSearchParams): { token: string | null; fromQuery: boolean } {
  const q = query.get('token');
  if (q) return { token: q, fromQuery: true };
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromQuery: false };
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${COOKIE}=`));
  if (cookie) {
    try {
      return { token: decodeURIComponent(cookie.slice(COOKIE.length + 1)), fromQuery: false };
    } catch {
      return { token: null, fromQuery: false };
    }
  }
  return { token: null, fromQuery: false };
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
}

export async function startHeadlessServer(opts: { host: CoreHost; token: string; listenHost: string; port: number; rendererDir: string }): Promise<HeadlessServer> {
  const { host, token, rendererDir } = opts;
  const log = host.log;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    securityHeaders(res);
    const target = parseTarget(req.url);
    if (!target) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('400 Bad Request\n');
      return;
    }
    const { token: given, fromQuery } = tokenOf(req, target.query);
    if (!given || !sameToken(given, token)) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('401 Unauthorized: open the URL with the access token that `npm run serve` printed (…/?token=…).\n');
      return;
    }
    if (fromQuery) res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
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

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const sockets = new Map<WebSocket, Session>();

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    const target = parseTarget(req.url);
    const given = target ? tokenOf(req, target.query).token : null;
    const origin = req.headers.origin;
    const ownOrigin = `http://${req.headers.host}`;
    if (!target || target.path !== '/api' || !given || !sameToken(given, token) || (origin !== undefined && origin !== ownOrigin)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
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
        send({ id: null, error: { code: 'invalid_input', message: 'Malformed message: expected a JSON object {"id", "method", "params"}.' } } satisfies WireReply);
        return;
      }
      const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
      if (typeof msg.method !== 'string') {
        send({ id, error: { code: 'invalid_input', message: 'Malformed message: "method" must be a string.' } } satisfies WireReply);
        return;
      }
      try {
        const r = await host.call(msg.method, msg.params, session);
        send({ id, ...r } as WireReply);
      } catch (e) {
        log.error({ err: (e as Error).message, method: msg.method }, 'transport call failed');
        send({ id, error: { code: 'internal', message: 'Internal error; see the log.' } } satisfies WireReply);
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
