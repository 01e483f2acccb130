import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { ApiError, call, errorMessage } from '../api';
import { t } from '../i18n';
import { useBrokersStore } from './brokers';
import { useHeartbeatStore } from './heartbeat';
import { useSessionStore } from './session';
import { useTradingStore } from './trading';
import { dismissKey, freeName, guideCovers, guideVisible, marketsStep, validStartingBalance } from './firstrun-logic';

type Broker = MethodOutput<'brokers.list'>[number];

/**
 * The first-run guide (components/FirstRunGuide.vue): a profile with no broker sees it instead of
 * the pages that need one, and follows three steps — a broker (a paper one in one click), its
 * markets, a symbol for the heartbeat — to Manual trading. "I'll do it later" is remembered per
 * profile in localStorage (`aristobot.firstrun.dismissed.<profileId>`): a choice about this
 * machine's screens, not data the core needs. A broker added anywhere ends the guide by itself,
 * except the one created in the guide, whose last two steps it keeps showing until finished.
 */
export const useFirstRunStore = defineStore('firstrun', () => {
  const session = useSessionStore();
  const brokers = useBrokersStore();
  const heartbeat = useHeartbeatStore();

  const checked = ref(false);
  const dismissed = ref(false);
  /** The broker created through the guide in this session, while its last steps are not finished. */
  const flowBrokerId = ref<string | null>(null);
  const watched = ref<string | null>(null);
  const creating = ref(false);
  const brokerError = ref('');
  const marketsError = ref('');
  const watchError = ref('');
  const adding = ref(false);

  watch(
    () => session.profile?.id ?? null,
    async (id) => {
      checked.value = false;
      flowBrokerId.value = null;
      watched.value = null;
      brokerError.value = marketsError.value = watchError.value = '';
      dismissed.value = id ? localStorage.getItem(dismissKey(id)) === '1' : false;
      if (!id) return;
      try {
        await brokers.load();
      } catch {
        /* the pages say what failed; the guide stays out of the way */
      }
      if (session.profile?.id === id) checked.value = true;
    },
    { immediate: true },
  );

  const visible = computed(() => guideVisible({ checked: checked.value, brokerCount: brokers.brokers.length, dismissed: dismissed.value, inFlow: flowBrokerId.value !== null }));
  const covers = (path: string) => visible.value && guideCovers(path);

  /** The broker the steps work on: the guide's own, else the profile's default one. */
  const broker = computed<Broker | null>(() => brokers.brokers.find((b) => b.id === flowBrokerId.value) ?? brokers.defaultBroker);
  const markets = computed(() => {
    const ex = broker.value?.exchange ?? null;
    return marketsStep({ exchange: ex, progress: ex ? (brokers.progress[ex] ?? null) : null, stored: brokers.summary.exchanges.find((e) => e.exchange === ex)?.count ?? 0 });
  });

  async function createPaper(exchange: string, amount: string): Promise<void> {
    brokerError.value = '';
    if (!validStartingBalance(amount)) {
      brokerError.value = t('firstrun.broker.invalidAmount');
      return;
    }
    creating.value = true;
    try {
      const name = freeName(t('firstrun.broker.name'), brokers.brokers.map((b) => b.name));
      const b = await call('brokers.create', { name, exchange, paper: true, balances: { USDT: amount.trim() } });
      await adopt(b);
    } catch (e) {
      brokerError.value = errorMessage(e);
    } finally {
      creating.value = false;
    }
  }

  /** A broker made in the guide (paper, or a real one from the broker form): its markets load at once. */
  async function adopt(b: Broker): Promise<void> {
    flowBrokerId.value = b.id;
    await brokers.load().catch(() => undefined);
    if (!brokers.brokers.some((x) => x.id === b.id)) brokers.brokers = [...brokers.brokers, b];
    await loadMarkets();
  }

  async function loadMarkets(): Promise<void> {
    marketsError.value = '';
    const b = broker.value;
    if (!b) return;
    try {
      await brokers.updateMarkets(b.id);
    } catch (e) {
      marketsError.value = errorMessage(e);
    }
  }

  async function watchSymbol(symbol: string): Promise<void> {
    watchError.value = '';
    adding.value = true;
    try {
      await heartbeat.addSymbol(symbol);
      watched.value = symbol;
    } catch (e) {
      watchError.value = e instanceof ApiError && e.code === 'invalid_input' ? t('firstrun.watch.notListed', { symbol }) : errorMessage(e);
    } finally {
      adding.value = false;
    }
  }

  function dismiss(): void {
    const id = session.profile?.id;
    if (id) localStorage.setItem(dismissKey(id), '1');
    dismissed.value = true;
    flowBrokerId.value = null;
  }

  /** The end: Manual trading opens on the guide's broker and the watched symbol. */
  async function finish(): Promise<void> {
    const b = broker.value;
    flowBrokerId.value = null;
    if (!b) return;
    const trading = useTradingStore();
    await trading.selectBroker(b.id);
    if (watched.value && trading.brokerId === b.id) await trading.selectSymbol(watched.value);
  }

  return { checked, dismissed, visible, covers, broker, markets, watched, creating, adding, brokerError, marketsError, watchError, flowBrokerId, createPaper, adopt, loadMarkets, watchSymbol, dismiss, finish };
});
