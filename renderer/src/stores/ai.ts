import { defineStore } from 'pinia';
import { reactive, ref, watch } from 'vue';
import type { EventData, MethodInput, MethodOutput } from '@shared/contract';
import { ApiError, call, errorMessage, on } from '../api';
import { useSessionStore } from './session';

type Settings = MethodOutput<'ai.settings.get'>;
type Model = MethodOutput<'ai.models'>['models'][number];
type Done = EventData<'ai.done'>;
type Check = NonNullable<Done['check']>;
export type AiMode = 'generate' | 'modify' | 'explain';

/** One question and its answer as it streams in. */
export interface AiAnswer {
  requestId: string | null;
  mode: AiMode;
  /** The text of the attempt being shown (the repair's once it starts). */
  text: string;
  attempt: number;
  /** Set when the first answer failed the check and the repair was asked for. */
  repairCheck: Check | null;
  done: Done | null;
  /** A refusal before anything was asked (assistant off, rate limit, bad input). */
  error: { code: string; message: string } | null;
  running: boolean;
}

/** The AI assistant: the profile's settings, the providers' model lists, and the answer being streamed. */
export const useAiStore = defineStore('ai', () => {
  const settings = ref<Settings | null>(null);
  const models = reactive<{ openrouter: Model[] | null; ollama: Model[] | null }>({ openrouter: null, ollama: null });
  const modelErrors = reactive<{ openrouter: string; ollama: string }>({ openrouter: '', ollama: '' });
  const answer = ref<AiAnswer | null>(null);
  // Events that arrived before ai.ask's reply told us their request id.
  const early = new Map<string, { event: string; data: unknown }[]>();

  async function load(): Promise<void> {
    settings.value = await call('ai.settings.get');
  }
  async function update(patch: MethodInput<'ai.settings.update'>): Promise<void> {
    settings.value = await call('ai.settings.update', patch);
  }
  async function loadModels(provider: 'openrouter' | 'ollama'): Promise<void> {
    modelErrors[provider] = '';
    try {
      models[provider] = (await call('ai.models', { provider })).models;
    } catch (e) {
      models[provider] = null;
      modelErrors[provider] = errorMessage(e);
    }
  }

  function apply(event: string, data: unknown): void {
    const a = answer.value;
    const id = (data as { requestId: string }).requestId;
    if (!a || a.requestId !== id) {
      if (a && a.requestId === null && a.running) {
        const list = early.get(id) ?? [];
        list.push({ event, data });
        early.set(id, list);
      }
      return;
    }
    if (event === 'ai.delta') {
      const d = data as EventData<'ai.delta'>;
      if (d.attempt !== a.attempt) {
        a.attempt = d.attempt;
        a.text = '';
      }
      a.text += d.text;
    } else if (event === 'ai.repair') {
      a.repairCheck = (data as EventData<'ai.repair'>).check;
    } else if (event === 'ai.done') {
      a.done = data as Done;
      a.text = a.done.text || a.text;
      a.running = false;
    }
  }

  async function ask(input: { mode: AiMode; prompt: string; code?: string }): Promise<void> {
    early.clear();
    answer.value = { requestId: null, mode: input.mode, text: '', attempt: 1, repairCheck: null, done: null, error: null, running: true };
    const a = answer.value;
    try {
      const { requestId } = await call('ai.ask', input);
      a.requestId = requestId;
      for (const e of early.get(requestId) ?? []) apply(e.event, e.data);
      early.clear();
    } catch (e) {
      a.running = false;
      a.error = { code: e instanceof ApiError ? e.code : 'internal', message: errorMessage(e) };
    }
  }
  async function cancel(): Promise<void> {
    const id = answer.value?.requestId;
    if (id) await call('ai.cancel', { requestId: id });
  }

  on('ai.delta', (d) => apply('ai.delta', d));
  on('ai.repair', (d) => apply('ai.repair', d));
  on('ai.done', (d) => apply('ai.done', d));
  on('ai.settings.changed', (s) => (settings.value = s));

  // Another profile: nothing of the previous one's settings or answers may show.
  const session = useSessionStore();
  watch(
    () => session.profile?.id ?? null,
    () => {
      settings.value = null;
      models.openrouter = models.ollama = null;
      answer.value = null;
    },
    { flush: 'sync' },
  );

  return { settings, models, modelErrors, answer, load, update, loadModels, ask, cancel };
});
