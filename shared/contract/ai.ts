import { z } from 'zod';
import { method } from './define';

/**
 * The AI assistant: per-profile settings (OpenRouter with an API key kept in the SecretStore, or a
 * local Ollama by URL; at most one on), the provider's model list, and `ai.ask`, whose answer is
 * streamed as `ai.delta` events and ends with one `ai.done` (scoped to the profile, matched by
 * `requestId`).
 */

export const AiProvider = z.enum(['off', 'openrouter', 'ollama']);
export const AiMode = z.enum(['generate', 'modify', 'explain']);

export const DEFAULT_OLLAMA_URL = 'http://localhost:11434';

const ModelId = z.string().trim().min(1, 'model is required').max(200, 'a model id is at most 200 characters').regex(/^[^\s]+$/, 'a model id has no spaces');
/** An OpenRouter key: printable, no spaces. Never echoed back; only its last 4 characters show. */
const ApiKey = z.string().trim().min(8, 'the API key looks too short').max(400, 'the API key is at most 400 characters').regex(/^[\x21-\x7e]+$/, 'the API key must be printable characters without spaces');
const OllamaUrl = z
  .string()
  .trim()
  .max(300)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'the Ollama URL must be an http(s) address such as http://localhost:11434 (no user, query or fragment)');

export const AiSettings = z.object({
  /** Which provider the assistant uses; 'off' when neither is switched on. */
  provider: AiProvider,
  openrouter: z.object({
    /** True when an API key is stored (in the SecretStore). */
    keySet: z.boolean(),
    /** The key's last 4 characters, masked: `••••1a2b`; null when none is stored. */
    keyHint: z.string().nullable(),
    model: z.string().nullable(),
  }),
  ollama: z.object({ url: z.string(), model: z.string().nullable() }),
  /** How many `ai.ask` calls a profile may make per minute. */
  callsPerMinute: z.number().int(),
});

export const AiCheck = z.object({
  ok: z.boolean(),
  /** `key`/`params`: our own message by key (worded by the renderer); TypeScript's messages have none. */
  diagnostics: z.array(z.object({ line: z.number().int(), column: z.number().int(), message: z.string(), key: z.string().optional(), params: z.record(z.string(), z.unknown()).optional() })),
});

export const AiModel = z.object({ id: z.string(), name: z.string(), contextLength: z.number().nullable() });

export const aiMethods = {
  'ai.settings.get': method({ input: z.object({}).strict().optional(), output: AiSettings, auth: 'profile', description: "The profile's AI assistant settings (the key shown masked)." }),
  'ai.settings.update': method({
    input: z
      .object({
        /** Switch one provider on (the other goes off), or both off. */
        provider: AiProvider.optional(),
        /** A new OpenRouter API key (kept in the SecretStore), or null to forget the stored one. */
        apiKey: ApiKey.nullable().optional(),
        openrouterModel: ModelId.nullable().optional(),
        ollamaUrl: OllamaUrl.optional(),
        ollamaModel: ModelId.nullable().optional(),
      })
      .strict(),
    output: AiSettings,
    auth: 'profile',
    description: 'Change the AI assistant settings: provider on/off, OpenRouter key and model, Ollama URL and model.',
  }),
  'ai.models': method({
    input: z.object({ provider: z.enum(['openrouter', 'ollama']).optional() }).strict().optional(),
    output: z.object({ provider: z.enum(['openrouter', 'ollama']), models: z.array(AiModel) }),
    auth: 'profile',
    description: "The models the provider offers (the one given, else the one switched on), from its /v1/models.",
  }),
  'ai.ask': method({
    input: z
      .object({
        mode: AiMode,
        prompt: z.string().trim().max(8000, 'the prompt is at most 8000 characters'),
        code: z.string().max(100_000, 'the code is at most 100 000 characters').optional(),
      })
      .strict()
      .superRefine((v, ctx) => {
        if (v.mode !== 'explain' && v.prompt.length === 0) ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'say what the strategy should do (or what to change)' });
        if (v.mode !== 'generate' && !v.code?.trim()) ctx.addIssue({ code: 'custom', path: ['code'], message: 'explain and edit need the current code' });
      }),
    output: z.object({ requestId: z.string() }),
    auth: 'profile',
    description: 'Ask the assistant. Answers at once with a request id; the answer streams as ai.delta events and ends with ai.done.',
  }),
  'ai.cancel': method({
    input: z.object({ requestId: z.string().min(1).max(100) }).strict(),
    output: z.object({ cancelled: z.boolean() }),
    auth: 'profile',
    description: 'Stop an answer being streamed (ai.done follows with the error code "cancelled").',
  }),
} as const;

export const AiDone = z.object({
  requestId: z.string(),
  mode: AiMode,
  /** The full text of the answer shown (the repair's, when one was made). */
  text: z.string(),
  /** The code block of the answer (generate, modify), or null (explain, or an error). */
  code: z.string().nullable(),
  /** The check of `code` (null when there is no code). */
  check: AiCheck.nullable(),
  /** True when the first answer failed the check and a second one was asked for. */
  repaired: z.boolean(),
  /** The first answer's check, when it failed and a repair was made. */
  firstCheck: AiCheck.nullable(),
  error: z.object({ code: z.string(), message: z.string(), retryAfterMs: z.number().optional() }).nullable(),
});

export const aiEvents = {
  /** A piece of the answer being streamed. `attempt` 2 is the repair after a failed check. */
  'ai.delta': z.object({ requestId: z.string(), attempt: z.number().int(), text: z.string() }),
  /** The first answer failed the check; the repair request starts (its deltas have attempt 2). */
  'ai.repair': z.object({ requestId: z.string(), check: AiCheck }),
  'ai.done': AiDone,
  'ai.settings.changed': AiSettings,
} as const;
