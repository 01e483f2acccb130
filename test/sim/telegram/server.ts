import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local stand-in for the Telegram Bot API (https://core.telegram.org/bots/api), speaking its HTTP
 * protocol: `GET|POST /bot<token>/<method>` with parameters in the query string, a JSON body or a
 * urlencoded form; answers `{ok: true, result}` or `{ok: false, error_code, description,
 * parameters?}` with the matching HTTP status, as Telegram does:
 * - a malformed token or an unknown method → 404 `Not Found`; a well-formed unknown token → 401 `Unauthorized`;
 * - `sendMessage` to an unknown chat → 400 `Bad Request: chat not found`; to a chat that blocked the
 *   bot → 403 `Forbidden: bot was blocked by the user`; without text → 400 `Bad Request: message text is empty`;
 * - more than `perChatPerSecond` messages to one chat within a second → 429 `Too Many Requests: retry
 *   after N` with `parameters.retry_after`.
 * `down = true` makes it drop every connection (Telegram unreachable) until set back.
 */

export interface TelegramBotDef {
  token: string;
  id: number;
  username: string;
  firstName?: string;
}

export interface SentMessage {
  token: string;
  chatId: string;
  text: string;
  messageId: number;
  at: number;
}

export interface TelegramStub {
  url: string;
  /** Every message delivered, in order. */
  messages: SentMessage[];
  /** Every request's method, token and status (what the app asked). */
  requests: { method: string; token: string; status: number }[];
  /** Drop connections (unreachable) while true. */
  down: boolean;
  /** Fail every request with this 5xx while set. */
  serverError: number | null;
  addChat(chatId: string, opts?: { blocked?: boolean }): void;
  close(): Promise<void>;
}

export interface TelegramStubOptions {
  bots: TelegramBotDef[];
  chats?: string[];
  perChatPerSecond?: number;
  retryAfterSeconds?: number;
}

const TOKEN = /^\d+:[A-Za-z0-9_-]{30,}$/;

async function params(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return out;
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const body = JSON.parse(raw) as Record<string, unknown>;
    for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  } else {
    for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  }
  return out;
}

export async function startTelegramStub(opts: TelegramStubOptions): Promise<TelegramStub> {
  const bots = new Map(opts.bots.map((b) => [b.token, b]));
  const chats = new Map<string, { blocked: boolean }>((opts.chats ?? []).map((c) => [c, { blocked: false }]));
  const recent = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  let nextMessageId = 1;

  const stub: TelegramStub = {
    url: '',
    messages: [],
    requests: [],
    down: false,
    serverError: null,
    addChat: (chatId, o = {}) => void chats.set(chatId, { blocked: o.blocked ?? false }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, code: number, description: string, parameters?: Record<string, unknown>) => answer(res, code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (stub.down) {
        req.socket.destroy();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://stub');
      const m = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
      const token = m?.[1] ?? '';
      const method = (m?.[2] ?? '').toLowerCase();
      const record = (status: number) => stub.requests.push({ method, token, status });
      if (stub.serverError) {
        record(stub.serverError);
        return fail(res, stub.serverError, 'Internal Server Error');
      }
      if (!m || !TOKEN.test(token) || !['getme', 'sendmessage'].includes(method)) {
        record(404);
        return fail(res, 404, 'Not Found');
      }
      const bot = bots.get(token);
      if (!bot) {
        record(401);
        return fail(res, 401, 'Unauthorized');
      }
      let p: Record<string, string>;
      try {
        p = await params(req, url);
      } catch {
        record(400);
        return fail(res, 400, "Bad Request: can't parse JSON object");
      }
      if (method === 'getme') {
        record(200);
        return answer(res, 200, { ok: true, result: { id: bot.id, is_bot: true, first_name: bot.firstName ?? bot.username, username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
      }
      const chatId = p.chat_id ?? '';
      if (!chatId) {
        record(400);
        return fail(res, 400, 'Bad Request: chat_id is empty');
      }
      const chat = chats.get(chatId);
      if (!chat) {
        record(400);
        return fail(res, 400, 'Bad Request: chat not found');
      }
      if (chat.blocked) {
        record(403);
        return fail(res, 403, 'Forbidden: bot was blocked by the user');
      }
      if (!p.text) {
        record(400);
        return fail(res, 400, 'Bad Request: message text is empty');
      }
      if (opts.perChatPerSecond) {
        const now = Date.now();
        const times = (recent.get(chatId) ?? []).filter((t) => now - t < 1000);
        if (times.length >= opts.perChatPerSecond) {
          const after = opts.retryAfterSeconds ?? 1;
          record(429);
          return fail(res, 429, `Too Many Requests: retry after ${after}`, { retry_after: after });
        }
        times.push(now);
        recent.set(chatId, times);
      }
      const messageId = nextMessageId++;
      const date = Math.floor(Date.now() / 1000);
      stub.messages.push({ token, chatId, text: p.text, messageId, at: Date.now() });
      record(200);
      return answer(res, 200, {
        ok: true,
        result: { message_id: messageId, from: { id: bot.id, is_bot: true, first_name: bot.firstName ?? bot.username, username: bot.username }, chat: /^-/.test(chatId) ? { id: Number(chatId), type: 'group', title: 'Group' } : { id: Number(chatId), type: 'private', first_name: 'Trader' }, date, text: p.text },
      });
    })().catch(() => {
      if (!res.headersSent) fail(res, 500, 'Internal Server Error');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
