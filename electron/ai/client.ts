import { AppError, type ErrorCode } from '../../shared/errors';
import type { MessageKey } from '../../shared/i18n';

/**
 * THE client for OpenAI-compatible chat-completions APIs (OpenRouter, and Ollama's `/v1`): plain
 * `fetch`, streaming parsed from server-sent events (`data: {…}` chunks carrying
 * `choices[0].delta.content`, ending with `data: [DONE]`). Every failure becomes an `AppError` with a
 * plain message that names the provider and what to do, and never contains the API key.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ProviderEndpoint {
  /** For messages: "OpenRouter", "Ollama". */
  label: string;
  /** The OpenAI-compatible base, ending in `/v1` (e.g. https://openrouter.ai/api/v1). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never put in a message or a log. */
  apiKey?: string;
  /** Extra headers (OpenRouter's optional app attribution). */
  headers?: Record<string, string>;
}

export interface ModelInfo {
  id: string;
  name: string;
  contextLength: number | null;
}

export interface ChatOptions {
  model: string;
  messages: ChatMessage[];
  /** Called with each piece of content as it arrives. */
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
  /** Give up when nothing arrives for this long (the first byte, or the next chunk). */
  timeoutMs: number;
  temperature?: number;
}

/** Ollama serves the OpenAI-compatible API under `/v1` of its URL. A URL already ending in /v1 is kept. */
export function ollamaBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

/** Replaces the key (and any Bearer token) in a text that came from the provider or the network. */
export function scrub(text: string, apiKey?: string): string {
  let out = text;
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join('••••');
  out = out.replace(/Bearer\s+[^\s"',]+/gi, 'Bearer ••••').replace(/sk-or-[A-Za-z0-9_-]+/g, '••••');
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

function fail(ep: ProviderEndpoint, code: ErrorCode, key: MessageKey, params: Record<string, unknown>, details?: Record<string, unknown>): AppError {
  // the provider's own words (and anything else) are scrubbed of the key before they go anywhere
  const clean = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? scrub(v, ep.apiKey) : v]));
  return new AppError(code, key, clean, details);
}

/** The provider's own error text, from `{error: {message}}`, `{error: "…"}` or `{message}`. */
function providerMessage(body: string): string | null {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // not JSON
  }
  const t = body.trim();
  return t ? t.slice(0, 200) : null;
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const d = Date.parse(h);
  return Number.isFinite(d) ? Math.max(0, d - Date.now()) : undefined;
}

/** Maps a non-2xx answer to the error a person understands. */
function httpError(ep: ProviderEndpoint, status: number, body: string, headers: Headers, model?: string): AppError {
  const said = providerMessage(body);
  const theirs = said ? `: ${said}` : '';
  if (status === 401 || status === 403) {
    return fail(ep, 'ai_auth', ep.apiKey ? 'errors.ai.refusedKey' : 'errors.ai.refusedRequestHttp', { label: ep.label, status, theirs }, { status });
  }
  const modelish = said !== null && /model/i.test(said);
  if (status === 404 || (status === 400 && modelish)) {
    if (model) return fail(ep, 'ai_unknown_model', 'errors.ai.unknownModel', { label: ep.label, model, status, theirs }, { status });
    return fail(ep, 'ai_unknown_model', 'errors.ai.notOpenAiCompatible', { label: ep.label, status, theirs, baseUrl: ep.baseUrl }, { status });
  }
  if (status === 429) {
    const ms = retryAfterMs(headers.get('retry-after'));
    if (ms !== undefined) return fail(ep, 'ai_rate_limit', 'errors.ai.limitingIn', { label: ep.label, theirs, wait: Math.ceil(ms / 1000) }, { status, retryAfterMs: ms });
    return fail(ep, 'ai_rate_limit', 'errors.ai.limitingLater', { label: ep.label, theirs }, { status, retryAfterMs: ms });
  }
  if (status >= 500) return fail(ep, 'ai_provider_error', 'errors.ai.hadServerErrorHttp', { label: ep.label, status, theirs }, { status });
  return fail(ep, 'ai_provider_error', 'errors.ai.refusedRequestHttp', { label: ep.label, status, theirs }, { status });
}

/** fetch's failure (connection refused, DNS, TLS) as a plain sentence. */
function networkError(ep: ProviderEndpoint, e: unknown): AppError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
  const where = ep.apiKey ? ep.label : `${ep.label} at ${ep.baseUrl.replace(/\/v1$/, '')}`;
  return fail(ep, 'ai_unreachable', ep.label === 'Ollama' ? 'errors.ai.couldNotReachOllama' : 'errors.ai.couldNotReach', { where, why });
}

/**
 * A fetch whose whole life (headers and body) is bounded by an idle timer: `kick()` re-arms it each
 * time data arrives. The caller's signal aborts it too.
 */
function idleGuard(timeoutMs: number, outer?: AbortSignal): { signal: AbortSignal; kick(): void; timedOut(): boolean; done(): void } {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let expired = false;
  const kick = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      expired = true;
      ctrl.abort(new Error('timeout'));
    }, timeoutMs);
  };
  const onOuter = () => ctrl.abort(outer?.reason);
  if (outer?.aborted) ctrl.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  kick();
  return {
    signal: ctrl.signal,
    kick,
    timedOut: () => expired,
    done: () => {
      if (timer) clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

export class OpenAiCompatibleClient {
  constructor(private readonly ep: ProviderEndpoint) {}

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { Accept: json ? 'application/json' : 'text/event-stream', ...this.ep.headers };
    if (json) h['Content-Type'] = 'application/json';
    if (this.ep.apiKey) h.Authorization = `Bearer ${this.ep.apiKey}`;
    return h;
  }

  private cancelledOrTimeout(guard: { timedOut(): boolean }, timeoutMs: number, signal?: AbortSignal): AppError | null {
    if (guard.timedOut()) return fail(this.ep, 'ai_timeout', 'errors.ai.didNotAnswerWithin', { label: this.ep.label, timeoutMs: Math.round(timeoutMs / 1000) });
    if (signal?.aborted) return new AppError('cancelled', 'errors.ai.questionWasCancelled');
    return null;
  }

  /** `GET /models`: OpenRouter's `{data: [{id, name, context_length}]}`, Ollama's `{data: [{id, owned_by}]}`. */
  async listModels(timeoutMs: number, signal?: AbortSignal): Promise<ModelInfo[]> {
    const guard = idleGuard(timeoutMs, signal);
    try {
      let res: Response;
      try {
        res = await fetch(`${this.ep.baseUrl}/models`, { headers: this.headers(false), signal: guard.signal });
      } catch (e) {
        throw this.cancelledOrTimeout(guard, timeoutMs, signal) ?? networkError(this.ep, e);
      }
      let body: string;
      try {
        body = await res.text();
      } catch (e) {
        throw this.cancelledOrTimeout(guard, timeoutMs, signal) ?? networkError(this.ep, e);
      }
      if (!res.ok) throw httpError(this.ep, res.status, body, res.headers);
      let data: unknown;
      try {
        data = (JSON.parse(body) as { data?: unknown }).data;
      } catch {
        data = undefined;
      }
      if (!Array.isArray(data)) throw fail(this.ep, 'ai_provider_error', 'errors.ai.answeredModelListUnexpected', { label: this.ep.label, baseUrl: this.ep.baseUrl });
      const models: ModelInfo[] = [];
      for (const m of data as { id?: unknown; name?: unknown; context_length?: unknown }[]) {
        if (!m || typeof m.id !== 'string') continue;
        models.push({ id: m.id, name: typeof m.name === 'string' && m.name ? m.name : m.id, contextLength: typeof m.context_length === 'number' ? m.context_length : null });
      }
      return models.sort((a, b) => a.id.localeCompare(b.id));
    } finally {
      guard.done();
    }
  }

  /** `POST /chat/completions` with `stream: true`; resolves to the whole answer's text. */
  async chat(o: ChatOptions): Promise<string> {
    const guard = idleGuard(o.timeoutMs, o.signal);
    try {
      let res: Response;
      try {
        res = await fetch(`${this.ep.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: this.headers(true),
          body: JSON.stringify({ model: o.model, messages: o.messages, stream: true, ...(o.temperature !== undefined ? { temperature: o.temperature } : {}) }),
          signal: guard.signal,
        });
      } catch (e) {
        throw this.cancelledOrTimeout(guard, o.timeoutMs, o.signal) ?? networkError(this.ep, e);
      }
      guard.kick();
      if (!res.ok) {
        const body = await res.text().catch(() => '');
        throw httpError(this.ep, res.status, body, res.headers, o.model);
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // A server that ignored `stream: true` answers one JSON completion.
        const body = await res.text();
        const text = parseCompletion(this.ep, body);
        if (text) o.onDelta?.(text);
        return text;
      }
      return await this.readStream(res, guard, o);
    } catch (e) {
      throw e instanceof AppError ? e : (this.cancelledOrTimeout(guard, o.timeoutMs, o.signal) ?? networkError(this.ep, e));
    } finally {
      guard.done();
    }
  }

  private async readStream(res: Response, guard: ReturnType<typeof idleGuard>, o: ChatOptions): Promise<string> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let text = '';
    let finished = false;
    const handleEvent = (data: string): void => {
      if (data === '[DONE]') {
        finished = true;
        return;
      }
      let chunk: { choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[]; error?: { message?: unknown; code?: unknown } };
      try {
        chunk = JSON.parse(data) as typeof chunk;
      } catch {
        throw fail(this.ep, 'ai_provider_error', 'errors.ai.sentMalformedStreamChunk', { label: this.ep.label });
      }
      if (chunk.error) {
        // OpenRouter reports failures after the stream began as a chunk with `error`.
        const msg = typeof chunk.error.message === 'string' ? chunk.error.message : 'unknown error';
        throw fail(this.ep, 'ai_provider_error', 'errors.ai.stoppedAnswer', { label: this.ep.label, msg });
      }
      const piece = chunk.choices?.[0]?.delta?.content;
      if (typeof piece === 'string' && piece.length > 0) {
        text += piece;
        o.onDelta?.(piece);
      }
    };
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (e) {
        throw this.cancelledOrTimeout(guard, o.timeoutMs, o.signal) ?? networkError(this.ep, e);
      }
      if (r.done) break;
      guard.kick();
      buffer += decoder.decode(r.value, { stream: true });
      // Events are separated by a blank line; within one, `data:` lines are joined by newlines.
      let sep: RegExpExecArray | null;
      while ((sep = /\r?\n\r?\n/.exec(buffer))) {
        const block = buffer.slice(0, sep.index);
        buffer = buffer.slice(sep.index + sep[0].length);
        const data = block
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) handleEvent(data); // lines starting with ':' are comments (keep-alives)
        if (finished) break;
      }
      if (finished) break;
    }
    await reader.cancel().catch(() => undefined);
    if (!finished && buffer.trim().startsWith('data:')) handleEvent(buffer.trim().slice(5).trim());
    if (!finished && text.length === 0) throw fail(this.ep, 'ai_provider_error', 'errors.ai.closedStreamBeforeAnswering', { label: this.ep.label });
    return text;
  }
}

function parseCompletion(ep: ProviderEndpoint, body: string): string {
  try {
    const j = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
    const c = j.choices?.[0]?.message?.content;
    if (typeof c === 'string') return c;
  } catch {
    // fall through
  }
  throw fail(ep, 'ai_provider_error', 'errors.ai.answeredUnexpectedShapeNo', { label: ep.label });
}
