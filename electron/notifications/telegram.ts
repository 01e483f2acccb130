/**
 * A minimal client of the Telegram Bot API (https://core.telegram.org/bots/api): `getMe` and
 * `sendMessage`, over HTTPS to `<base>/bot<token>/<method>`. Answers are `{ok: true, result}` or
 * `{ok: false, error_code, description, parameters?: {retry_after}}`; failures are classified so
 * the caller knows whether the token or the chat id is wrong, or whether to retry later. The token
 * is part of the URL: it is never put in an error message or a log line.
 */

import { translate, type MessageKey, type Params, type Text } from '../../shared/i18n';

export type TelegramFailure =
  /** the bot token is refused (401 Unauthorized; 404 Not Found for a malformed token) */
  | 'token'
  /** the chat is unknown, or the bot may not write there (400 chat not found, 403 blocked / not a member) */
  | 'chat'
  /** Telegram not reached (DNS, refused, timeout): retry later */
  | 'network'
  /** 429 Too Many Requests: retry after `retryAfterMs` */
  | 'rate_limit'
  /** 5xx: retry later */
  | 'server'
  /** any other refusal (a bad request that retrying will not fix) */
  | 'other';

/**
 * A failure of a Telegram call. `text` is its sentence as a catalogue key and parameters (Telegram's
 * own description passed as is); `message` is the same in English (logs, the stored queue error).
 */
export class TelegramError extends Error {
  readonly text: Text;
  constructor(
    readonly failure: TelegramFailure,
    key: MessageKey,
    params: Params = {},
    readonly errorCode: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(translate('en', key, params));
    this.name = 'TelegramError';
    this.text = { key, params };
  }
  get retryable(): boolean {
    return this.failure === 'network' || this.failure === 'rate_limit' || this.failure === 'server';
  }
}

export interface TelegramBot {
  id: number;
  username: string | null;
  firstName: string;
}

interface Answer {
  ok?: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

export const DEFAULT_TELEGRAM_API_URL = 'https://api.telegram.org';

export class TelegramClient {
  constructor(
    private readonly baseUrl: string = DEFAULT_TELEGRAM_API_URL,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(token: string, method: string, body?: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError') throw new TelegramError('network', 'coreRest.telegram.timeout', { ms: this.timeoutMs });
      throw err.cause?.code ? new TelegramError('network', 'coreRest.telegram.unreachableWhy', { why: err.cause.code }) : new TelegramError('network', 'coreRest.telegram.unreachable');
    }
    const text = await res.text().catch(() => '');
    let json: Answer | null = null;
    try {
      json = JSON.parse(text) as Answer;
    } catch {
      json = null;
    }
    if (res.ok && json?.ok === true) return json.result as T;
    const code = json?.error_code ?? res.status;
    // Telegram's description is a fixed English sentence ("Bad Request: chat not found"); it never echoes the token.
    const description = (json?.description ?? `HTTP ${res.status}`).replaceAll(token, '•••').slice(0, 300);
    if (code === 429) {
      const after = json?.parameters?.retry_after;
      throw new TelegramError('rate_limit', 'coreRest.telegram.slowDown', { description }, code, typeof after === 'number' && after >= 0 ? after * 1000 : null);
    }
    if (code >= 500) throw new TelegramError('server', 'coreRest.telegram.server', { code, description }, code);
    if (code === 401 || code === 404) throw new TelegramError('token', 'coreRest.telegram.token', { code, description }, code);
    if (method === 'sendMessage' && (code === 403 || /chat|user|bot was|not a member|kicked|deactivated|blocked/i.test(description))) {
      throw new TelegramError('chat', 'coreRest.telegram.chat', { code, description }, code);
    }
    throw new TelegramError('other', 'coreRest.telegram.other', { code, description }, code);
  }

  async getMe(token: string): Promise<TelegramBot> {
    const r = await this.call<{ id: number; username?: string; first_name: string }>(token, 'getMe');
    return { id: r.id, username: r.username ?? null, firstName: r.first_name };
  }

  async sendMessage(token: string, chatId: string, text: string): Promise<{ messageId: number }> {
    const r = await this.call<{ message_id: number }>(token, 'sendMessage', { chat_id: chatId, text, disable_web_page_preview: true });
    return { messageId: r.message_id };
  }
}
