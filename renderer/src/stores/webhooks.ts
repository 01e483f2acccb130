import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MethodInput, MethodOutput } from '@shared/contract';
import { call, on } from '../api';
import { useSessionStore } from './session';

type State = MethodOutput<'webhooks.listener.get'>;
type Request = MethodOutput<'webhooks.list'>[number];
type Stats = MethodOutput<'webhooks.stats'>;
type Position = MethodOutput<'webhooks.positions'>[number];
type Sender = MethodOutput<'webhooks.senders'>[number];
type Templates = MethodOutput<'webhooks.templates'>;
export type Filters = NonNullable<NonNullable<MethodInput<'webhooks.list'>>['filters']>;

/** The Webhooks page: listener and tunnel, secret, templates, the live journal, counters, positions, senders. */
export const useWebhooksStore = defineStore('webhooks', () => {
  const state = ref<State | null>(null);
  const requests = ref<Request[]>([]);
  const stats = ref<Record<'24h' | '7d' | '30d', Stats | null>>({ '24h': null, '7d': null, '30d': null });
  const positions = ref<Position[]>([]);
  const senders = ref<Sender[]>([]);
  const templates = ref<Templates | null>(null);
  const secret = ref<{ secret: string; masked: string } | null>(null);
  const filters = ref<Partial<Filters>>({});
  const missed = computed(() => senders.value.filter((s) => s.missed));

  async function loadState() {
    state.value = await call('webhooks.listener.get');
  }
  async function loadRequests() {
    const f: Partial<Filters> = {};
    for (const [k, v] of Object.entries(filters.value)) if (v !== '' && v !== undefined && !(Array.isArray(v) && !v.length)) (f as Record<string, unknown>)[k] = v;
    requests.value = await call('webhooks.list', { filters: { limit: 200, ...f } });
  }
  async function loadStats() {
    const [a, b, c] = await Promise.all((['24h', '7d', '30d'] as const).map((period) => call('webhooks.stats', { period })));
    stats.value = { '24h': a!, '7d': b!, '30d': c! };
  }
  async function loadPositions() {
    positions.value = await call('webhooks.positions');
  }
  async function loadSenders() {
    senders.value = await call('webhooks.senders');
  }
  async function loadTemplates(brokerId?: string) {
    templates.value = await call('webhooks.templates', brokerId ? { brokerId } : {});
  }
  async function loadSecret() {
    secret.value = await call('webhooks.secret.get');
  }
  async function loadAll(brokerId?: string) {
    await Promise.all([loadState(), loadRequests(), loadStats(), loadPositions(), loadSenders(), loadTemplates(brokerId), loadSecret()]);
  }
  async function start() {
    state.value = await call('webhooks.listener.start');
  }
  async function stop() {
    state.value = await call('webhooks.listener.stop');
  }
  async function restrict(on: boolean) {
    state.value = await call('webhooks.listener.restrict', { restrictToTradingView: on });
  }
  async function tunnelStart(authtoken?: string) {
    try {
      state.value = await call('webhooks.tunnel.start', authtoken ? { authtoken } : {});
    } finally {
      await loadState();
    }
  }
  async function tunnelStop() {
    state.value = await call('webhooks.tunnel.stop');
  }
  async function rotate(brokerId?: string) {
    await call('webhooks.secret.rotate');
    await Promise.all([loadSecret(), loadTemplates(brokerId)]);
  }
  async function sendTest() {
    return call('webhooks.test');
  }

  let timer: ReturnType<typeof setTimeout> | null = null;
  /** Journal and counters refreshed at most every 300 ms while alerts arrive. */
  function refreshSoon() {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void Promise.all([loadRequests(), loadStats()]).catch(() => undefined);
    }, 300);
  }
  // Another profile: nothing of the previous one's webhooks may show.
  const session = useSessionStore();
  watch(
    () => session.profile?.id ?? null,
    (id) => {
      state.value = null;
      requests.value = [];
      positions.value = [];
      senders.value = [];
      templates.value = null;
      secret.value = null;
      if (id) void loadSenders().catch(() => undefined);
    },
    { flush: 'sync' },
  );
  on('webhooks.received', refreshSoon);
  on('webhooks.updated', (e) => {
    if (e.kind === 'request') refreshSoon();
    else if (e.kind === 'position') void loadPositions().catch(() => undefined);
    else void loadSenders().catch(() => undefined);
  });
  on('orders.updated', refreshSoon);

  return { state, requests, stats, positions, senders, templates, secret, filters, missed, loadAll, loadState, loadRequests, loadStats, loadPositions, loadSenders, loadTemplates, start, stop, restrict, tunnelStart, tunnelStop, rotate, sendTest };
});
