import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { AiDone } from '../../shared/contract/ai';
import { AppError } from '../../shared/errors';
import { translate } from '../../shared/i18n';
import type { EventBus } from '../events';
import type { Logger } from '../log';
import { OpenAiCompatibleClient, ollamaBaseUrl, type ModelInfo, type ProviderEndpoint } from './client';
import { buildMessages, extractCode, repairMessage, type AiMode, type CheckResult } from './prompt';
import type { ActiveProvider, AiSettingsStore } from './settings';

/** The model answered without code: one diagnostic, by key (the model reads its English in the repair prompt). */
const noCodeBlock = (): CheckResult => ({ ok: false, diagnostics: [{ line: 1, column: 1, message: translate('en', 'coreLast.check.noCodeBlock'), key: 'coreLast.check.noCodeBlock', params: {} }] });

export const OPENROUTER_URL = 'https://openrouter.ai/api/v1';
export const DEFAULT_AI_TIMEOUT_MS = 60_000;
export const DEFAULT_CALLS_PER_MINUTE = 10;

/** Checks strategy code (the strategies' validator): diagnostics with line and column. */
export type CheckFn = (code: string) => Promise<CheckResult>;

export interface AiServiceOptions {
  settings: AiSettingsStore;
  bus: EventBus;
  log: Logger;
  check: CheckFn;
  /** Idle timeout of a provider request (no byte for this long). */
  timeoutMs?: number;
  callsPerMinute?: number;
  /** OpenRouter's base URL (tests point it at the stub). */
  openrouterUrl?: string;
}

type Done = z.input<typeof AiDone>;

/**
 * Sliding-window limit: at most `limit` calls in any `windowMs` per key. `take` answers the wait in ms
 * (0 when the call may go now and is counted).
 */
export class RateLimiter {
  private readonly calls = new Map<string, number[]>();
  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}
  take(key: string): number {
    const t = this.now();
    const recent = (this.calls.get(key) ?? []).filter((x) => x > t - this.windowMs);
    if (recent.length >= this.limit) {
      this.calls.set(key, recent);
      return recent[0]! + this.windowMs - t;
    }
    recent.push(t);
    this.calls.set(key, recent);
    return 0;
  }
}

/**
 * The assistant. `ask` answers a request id at once and streams the answer as `ai.delta` events
 * (scoped to the profile); generated code is checked, and if it fails the diagnostics go back to the
 * model for ONE repair before `ai.done` carries the result.
 */
export class AiService {
  private readonly limiter: RateLimiter;
  private readonly running = new Map<string, { profileId: string; ctrl: AbortController; done: Promise<void> }>();
  readonly timeoutMs: number;
  private readonly openrouterUrl: string;

  constructor(private readonly o: AiServiceOptions) {
    this.timeoutMs = o.timeoutMs ?? DEFAULT_AI_TIMEOUT_MS;
    this.limiter = new RateLimiter(o.callsPerMinute ?? DEFAULT_CALLS_PER_MINUTE);
    this.openrouterUrl = (o.openrouterUrl ?? OPENROUTER_URL).replace(/\/+$/, '');
  }

  private client(p: ActiveProvider): OpenAiCompatibleClient {
    const ep: ProviderEndpoint =
      p.provider === 'openrouter'
        ? { label: 'OpenRouter', baseUrl: this.openrouterUrl, apiKey: p.apiKey, headers: { 'HTTP-Referer': 'https://github.com/aristobot3', 'X-Title': 'Aristobot3' } }
        : { label: 'Ollama', baseUrl: ollamaBaseUrl(p.ollamaUrl) };
    return new OpenAiCompatibleClient(ep);
  }

  async models(profileId: string, which?: 'openrouter' | 'ollama'): Promise<{ provider: 'openrouter' | 'ollama'; models: ModelInfo[] }> {
    const p = await this.o.settings.active(profileId, which);
    return { provider: p.provider, models: await this.client(p).listModels(this.timeoutMs) };
  }

  /** Starts a question; preflight failures (off, no model, rate limit) are thrown here, the rest arrive in `ai.done`. */
  async ask(profileId: string, input: { mode: AiMode; prompt: string; code?: string }): Promise<{ requestId: string; done: Promise<void> }> {
    const p = await this.o.settings.active(profileId);
    if (!p.model) {
      throw new AppError('ai_off', 'errors.ai.noModelPickedPick', { provider: p.provider === 'openrouter' ? 'OpenRouter' : 'Ollama' });
    }
    const wait = this.limiter.take(profileId);
    if (wait > 0) {
      throw new AppError('rate_limited', 'errors.ai.assistantTakesMostQuestions', { limit: this.limiter.limit, wait: Math.ceil(wait / 1000) }, { retryAfterMs: wait });
    }
    const requestId = randomUUID();
    const ctrl = new AbortController();
    // Started on the next turn so the reply carrying the request id leaves before the first delta.
    const done = new Promise<void>((r) => setImmediate(r)).then(() => this.run(profileId, requestId, p, input, ctrl.signal));
    this.running.set(requestId, { profileId, ctrl, done });
    void done.finally(() => this.running.delete(requestId));
    return { requestId, done };
  }

  cancel(profileId: string, requestId: string): boolean {
    const r = this.running.get(requestId);
    if (!r || r.profileId !== profileId) return false;
    r.ctrl.abort(new Error('cancelled'));
    return true;
  }

  private async run(profileId: string, requestId: string, p: ActiveProvider, input: { mode: AiMode; prompt: string; code?: string }, signal: AbortSignal): Promise<void> {
    const { bus, log } = this.o;
    const client = this.client(p);
    const model = p.model!;
    const emitDone = (d: Omit<Done, 'requestId' | 'mode'>) => bus.emit('ai.done', { requestId, mode: input.mode, ...d }, { profileId });
    const messages = buildMessages(input.mode, input.prompt, input.code);
    let text = '';
    let code: string | null = null;
    let check: CheckResult | null = null;
    let firstCheck: CheckResult | null = null;
    let repaired = false;
    const started = Date.now();
    try {
      text = await client.chat({ model, messages, signal, timeoutMs: this.timeoutMs, onDelta: (t) => bus.emit('ai.delta', { requestId, attempt: 1, text: t }, { profileId }) });
      if (input.mode !== 'explain') {
        code = extractCode(text);
        check = code === null ? null : await this.o.check(code);
        if (!check?.ok) {
          // One repair: the model sees its answer and the checker's diagnostics (or that no code came).
          firstCheck = check ?? noCodeBlock();
          bus.emit('ai.repair', { requestId, check: firstCheck }, { profileId });
          repaired = true;
          messages.push({ role: 'assistant', content: text }, repairMessage(check));
          text = await client.chat({ model, messages, signal, timeoutMs: this.timeoutMs, onDelta: (t) => bus.emit('ai.delta', { requestId, attempt: 2, text: t }, { profileId }) });
          code = extractCode(text);
          check = code === null ? noCodeBlock() : await this.o.check(code);
        }
      }
      log.info({ requestId, provider: p.provider, model, mode: input.mode, repaired, ok: check?.ok ?? null, ms: Date.now() - started }, 'ai answer');
      emitDone({ text, code, check, repaired, firstCheck, error: null });
    } catch (e) {
      const err = e instanceof AppError ? e : new AppError('internal', 'errors.ai.assistantFailedUnexpectedlySee');
      if (!(e instanceof AppError)) log.error({ requestId, err: (e as Error).message }, 'ai ask failed');
      else log.warn({ requestId, provider: p.provider, model, code: err.code, message: err.message }, 'ai ask failed');
      const retry = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
      emitDone({ text, code: null, check: null, repaired, firstCheck, error: { code: err.code, message: err.message, ...(retry !== undefined ? { retryAfterMs: retry } : {}) } });
    }
  }

  /** Cancels every answer in flight and waits for them (app stop). */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.ctrl.abort(new Error('stopping'));
    await Promise.all(all.map((r) => r.done.catch(() => undefined)));
  }
}
