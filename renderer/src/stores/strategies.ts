import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { ApiError, call, on } from '../api';
import { useSessionStore } from './session';

export type StrategySummary = MethodOutput<'strategies.list'>[number];
export type StrategyDetail = MethodOutput<'strategies.get'>;
export type StrategyVersion = MethodOutput<'strategies.versions'>[number];
export type StrategyTemplate = MethodOutput<'strategies.templates'>[number];
export type CheckResult = MethodOutput<'strategies.check'>;
export type Diagnostic = CheckResult['diagnostics'][number];

/** The diagnostics a refused save carries (`details.diagnostics`), if any. */
export function diagnosticsOf(e: unknown): Diagnostic[] {
  const d = e instanceof ApiError ? (e.details as { diagnostics?: Diagnostic[] } | undefined) : undefined;
  return d?.diagnostics ?? [];
}

/** The profile's strategies, the one open in the editor (its saved state) and its versions. */
export const useStrategiesStore = defineStore('strategies', () => {
  const list = ref<StrategySummary[]>([]);
  const templates = ref<StrategyTemplate[]>([]);
  const current = ref<StrategyDetail | null>(null);
  const versions = ref<StrategyVersion[]>([]);
  const loaded = ref(false);

  const currentId = computed(() => current.value?.id ?? null);

  async function load(): Promise<void> {
    const [l, t] = await Promise.all([call('strategies.list'), templates.value.length ? Promise.resolve(templates.value) : call('strategies.templates')]);
    list.value = l;
    templates.value = t;
    loaded.value = true;
  }
  async function refreshList(): Promise<void> {
    list.value = await call('strategies.list');
  }
  async function open(id: string): Promise<StrategyDetail> {
    const [s, v] = await Promise.all([call('strategies.get', { id }), call('strategies.versions', { id })]);
    current.value = s;
    versions.value = v;
    return s;
  }
  async function openVersion(id: string, version: number): Promise<StrategyDetail> {
    return call('strategies.get', { id, version });
  }
  async function create(name: string, template: string): Promise<StrategyDetail> {
    const s = await call('strategies.create', { name, template });
    await refreshList();
    await open(s.id);
    return s;
  }
  async function save(id: string, code: string): Promise<StrategyDetail> {
    const s = await call('strategies.update', { id, code });
    await Promise.all([refreshList(), open(id)]);
    return s;
  }
  async function rename(id: string, name: string): Promise<void> {
    const s = await call('strategies.update', { id, name });
    if (current.value?.id === id) current.value = { ...current.value, name: s.name, updatedAt: s.updatedAt };
    await refreshList();
  }
  async function duplicate(id: string): Promise<StrategyDetail> {
    const s = await call('strategies.duplicate', { id });
    await refreshList();
    await open(s.id);
    return s;
  }
  async function remove(id: string): Promise<void> {
    await call('strategies.delete', { id });
    if (current.value?.id === id) {
      current.value = null;
      versions.value = [];
    }
    await refreshList();
  }
  async function check(code: string): Promise<CheckResult> {
    return call('strategies.check', { code });
  }

  // Another profile: nothing of the previous one's strategies may show.
  const session = useSessionStore();
  watch(
    () => session.profile?.id ?? null,
    () => {
      list.value = [];
      current.value = null;
      versions.value = [];
      loaded.value = false;
    },
    { flush: 'sync' },
  );
  // Another window changed something: refresh the list (the open editor keeps its text).
  on('strategies.changed', () => {
    if (loaded.value) void refreshList().catch(() => undefined);
  });

  return { list, templates, current, currentId, versions, loaded, load, refreshList, open, openVersion, create, save, rename, duplicate, remove, check };
});
