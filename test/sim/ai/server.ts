import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an OpenAI-compatible chat-completions API (OpenRouter, Ollama's /v1):
 * `GET …/models` and `POST …/chat/completions`, streaming (server-sent events: `data: {…}` chunks
 * with `choices[0].delta.content`, `: comments`, `data: [DONE]`) or not. It checks the Bearer key
 * (401), knows a list of models (404 for another, as Ollama answers), and answers from a script:
 * each answer can be delayed (before the headers, or between chunks) or be an HTTP error.
 */

export interface StubMessage {
  role: string;
  content: string;
}
export interface StubRequest {
  model: string;
  messages: StubMessage[];
  stream: boolean;
  authorization: string | null;
}
export interface StubAnswer {
  /** The answer's text (streamed in small chunks). */
  text?: string;
  /** Answer this HTTP status with an OpenAI-style error body instead. */
  status?: number;
  errorMessage?: string;
  /** Retry-After header (seconds) with a 429. */
  retryAfter?: number;
  /** Wait before sending the headers. */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
  /** Characters per stream chunk (default 12). */
  chunkSize?: number;
  /** Stop sending after the first chunk and hang (an idle stream). */
  hangAfterFirstChunk?: boolean;
}

export interface AiStubOptions {
  /** 'openrouter': models carry name and context_length; 'ollama': {id, object, created, owned_by}. */
  shape?: 'openrouter' | 'ollama';
  models?: string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Answers for chat requests, taken in order; `respond` is used when the queue is empty. */
  answers?: StubAnswer[];
  respond?: (req: StubRequest) => StubAnswer;
}

export interface AiStub {
  url: string;
  requests: StubRequest[];
  /** Every header and body received, raw (tests look for the key in them, or not). */
  raw: string[];
  queue(...answers: StubAnswer[]): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startAiStub(opts: AiStubOptions = {}): Promise<AiStub> {
  const shape = opts.shape ?? 'ollama';
  const models = opts.models ?? ['llama3.1:8b', 'qwen2.5-coder:7b'];
  const queue: StubAnswer[] = [...(opts.answers ?? [])];
  const requests: StubRequest[] = [];
  const raw: string[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const authorised = (req: IncomingMessage): boolean => !opts.apiKey || req.headers.authorization === `Bearer ${opts.apiKey}`;

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      raw.push(JSON.stringify(req.headers) + '\n' + body);
      void handle(req, res, body).catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    if (req.method === 'GET' && path.endsWith('/models')) {
      if (!authorised(req)) return json(res, 401, { error: { message: 'No auth credentials found', code: 401 } });
      const data =
        shape === 'openrouter'
          ? models.map((id) => ({ id, name: `Stub: ${id}`, context_length: 32768, pricing: { prompt: '0', completion: '0' } }))
          : models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'library' }));
      return json(res, 200, { object: 'list', data });
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) return json(res, 404, { error: { message: '404 page not found' } });
    if (!authorised(req)) return json(res, 401, { error: { message: 'User not found.', code: 401 } });
    let parsed: { model?: unknown; messages?: unknown; stream?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return json(res, 400, { error: { message: 'invalid JSON body' } });
    }
    const r: StubRequest = { model: String(parsed.model), messages: (parsed.messages as StubMessage[]) ?? [], stream: parsed.stream === true, authorization: req.headers.authorization ?? null };
    requests.push(r);
    if (!models.includes(r.model)) return json(res, 404, { error: { message: `model "${r.model}" not found, try pulling it first`, type: 'api_error' } });
    const a = queue.shift() ?? opts.respond?.(r) ?? { text: 'Hello from the stub.' };
    if (a.delayMs) await sleep(a.delayMs);
    if (res.destroyed) return;
    if (a.status) return json(res, a.status, { error: { message: a.errorMessage ?? `stub error ${a.status}`, code: a.status } }, a.retryAfter !== undefined ? { 'Retry-After': String(a.retryAfter) } : {});
    const text = a.text ?? '';
    const id = `chatcmpl-${requests.length}`;
    if (!r.stream) return json(res, 200, { id, object: 'chat.completion', model: r.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] });
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': OPENROUTER PROCESSING\n\n');
    const size = a.chunkSize ?? 12;
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: r.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < text.length; i += size) {
      if (res.destroyed) return;
      res.write(chunk({ content: text.slice(i, i + size) }, null));
      if (a.hangAfterFirstChunk) return; // never ends; the client's idle timeout must fire
      if (a.chunkDelayMs) await sleep(a.chunkDelayMs);
    }
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    raw,
    queue: (...answers) => queue.push(...answers),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
