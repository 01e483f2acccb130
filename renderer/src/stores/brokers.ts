import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { call, on } from '../api';
import { useSessionStore } from './session';

type Broker = MethodOutput<'brokers.list'>[number];
type ExchangeInfo = MethodOutput<'exchanges.list'>[number];
type Summary = MethodOutput<'markets.summary'>;
type Progress = Summary['loading'][number];

/** Brokers of the logged-in profile, the exchange catalogue, markets status and testnet mode. */
export const useBrokersStore = defineStore('brokers', () => {
  const brokers = ref<Broker[]>([]);
  const exchanges = ref<ExchangeInfo[]>([]);
  const summary = ref<Summary>({ exchanges: [], loading: [] });
  const progress = ref<Record<string, Progress>>({});
  const testnet = ref(false);

  const defaultBroker = computed(() => brokers.value.find((b) => b.isDefault) ?? brokers.value[0] ?? null);

  async function load(): Promise<void> {
    [brokers.value, summary.value, testnet.value] = await Promise.all([call('brokers.list'), call('markets.summary'), call('app.testnet.get').then((r) => r.enabled)]);
    for (const p of summary.value.loading) progress.value[p.exchange] = p;
  }
  async function loadExchanges(): Promise<void> {
    if (!exchanges.value.length) exchanges.value = await call('exchanges.list');
  }
  async function refreshSummary(): Promise<void> {
    summary.value = await call('markets.summary');
  }
  async function setTestnet(enabled: boolean): Promise<void> {
    testnet.value = (await call('app.testnet.set', { enabled })).enabled;
  }
  async function updateMarkets(brokerId: string): Promise<void> {
    const r = await call('markets.update', { brokerId });
    progress.value[r.exchange] = { exchange: r.exchange, brokerId, phase: 'fetching', percent: 0, count: null, message: null };
  }

  // Another profile: nothing of the previous one's brokers may show, not even for a moment.
  const session = useSessionStore();
  watch(
    () => session.profile?.id ?? null,
    (id) => {
      brokers.value = [];
      progress.value = {};
      // Testnet is per profile: the header follows the logged-in profile's mode.
      testnet.value = false;
      if (id) void call('app.testnet.get').then((r) => (session.profile?.id === id ? (testnet.value = r.enabled) : undefined));
    },
    { flush: 'sync' },
  );

  on('brokers.changed', () => void call('brokers.list').then((b) => (brokers.value = b)));
  on('app.testnet.changed', (t) => (testnet.value = t.enabled));
  on('markets.progress', (p) => {
    progress.value[p.exchange] = p;
    if (p.phase === 'done' || p.phase === 'cancelled' || p.phase === 'failed') void refreshSummary();
  });

  return { brokers, exchanges, summary, progress, testnet, defaultBroker, load, loadExchanges, setTestnet, updateMarkets, refreshSummary };
});
