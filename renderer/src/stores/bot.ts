import Decimal from 'decimal.js';
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { EventData, MethodInput, MethodOutput } from '@shared/contract';
import { call, errorMessage, on } from '../api';
import { useSessionStore } from './session';

export type Activation = MethodOutput<'bot.get'>;
export type BotDecision = MethodOutput<'bot.decisions'>[number];
export type BotTrade = MethodOutput<'bot.trades'>[number];
export type EngineState = MethodOutput<'engine.get'>;
type Signal = EventData<'heartbeat.signal'>;

/** Decisions and trades kept per activation on the page (the issue: the last 10 trades). */
export const KEEP_DECISIONS = 10;
export const KEEP_TRADES = 10;

/**
 * The trading bot of the logged-in profile: activations with their books, their last decisions and
 * trades, the engine switch (also shown in the header), and the last price of each activation's
 * symbol (the heartbeat's closed minutes; a ticker at load) for the unrealised P&L. Kept live by
 * `bot.updated` (one activation re-read), `bot.decision` (merged into its list) and `engine.changed`.
 */
export const useBotStore = defineStore('bot', () => {
  const activations = ref<Activation[]>([]);
  const engine = ref<EngineState | null>(null);
  const decisions = ref<Record<string, BotDecision[]>>({});
  const trades = ref<Record<string, BotTrade[]>>({});
  /** Last known price per symbol (decimal string) and where it came from. */
  const prices = ref<Record<string, { price: string; at: number }>>({});
  /** A failed background refresh (shown verbatim on the page). */
  const lastError = ref('');
  const loaded = ref(false);
  let generation = 0;

  const byId = (id: string) => activations.value.find((a) => a.id === id) ?? null;
  const live = computed(() => engine.value?.live ?? activations.value.filter((a) => a.state === 'running').length);

  function put(a: Activation): void {
    const i = activations.value.findIndex((x) => x.id === a.id);
    if (i >= 0) activations.value.splice(i, 1, a);
    else activations.value.unshift(a);
  }
  function drop(id: string): void {
    activations.value = activations.value.filter((a) => a.id !== id);
    delete decisions.value[id];
    delete trades.value[id];
  }

  async function loadEngine(): Promise<void> {
    const g = generation;
    const e = await call('engine.get');
    if (g === generation) engine.value = e;
  }

  async function loadBook(id: string): Promise<void> {
    const g = generation;
    const [d, t] = await Promise.all([call('bot.decisions', { id, limit: KEEP_DECISIONS }), call('bot.trades', { id, limit: KEEP_TRADES })]);
    if (g !== generation) return;
    decisions.value[id] = d;
    trades.value[id] = t;
  }

  /** A price for every open position whose symbol has none yet (the broker's ticker). */
  async function loadPrices(): Promise<void> {
    const want = activations.value.filter((a) => a.position && a.brokerId && !prices.value[a.symbol]);
    await Promise.all(
      want.map(async (a) => {
        try {
          const t = await call('tickers.get', { brokerId: a.brokerId!, symbol: a.symbol });
          const p = t.last ?? t.bid ?? null;
          if (p && !prices.value[a.symbol]) prices.value[a.symbol] = { price: p, at: Date.now() };
        } catch {
          // no price: the unrealised P&L shows "—" until the next closed minute of the symbol
        }
      }),
    );
  }

  async function load(): Promise<void> {
    const g = generation;
    const [list, e] = await Promise.all([call('bot.list'), call('engine.get')]);
    if (g !== generation) return;
    activations.value = list;
    engine.value = e;
    await Promise.all(list.map((a) => loadBook(a.id)));
    loaded.value = true;
    void loadPrices();
  }

  // One re-read per activation at a time; events arriving meanwhile ask for one more.
  const inFlight = new Map<string, Promise<void>>();
  const again = new Set<string>();
  function refreshOne(id: string): Promise<void> {
    if (inFlight.has(id)) {
      again.add(id);
      return inFlight.get(id)!;
    }
    const g = generation;
    const p = (async () => {
      try {
        const a = await call('bot.get', { id });
        if (g !== generation) return;
        put(a);
        await loadBook(id);
        void loadPrices();
      } catch (e) {
        if ((e as { code?: string }).code === 'not_found') drop(id);
        else lastError.value = errorMessage(e);
      }
    })().finally(() => {
      inFlight.delete(id);
      if (again.delete(id)) void refreshOne(id);
    });
    inFlight.set(id, p);
    return p;
  }

  function addDecision(d: BotDecision): void {
    const list = (decisions.value[d.activationId] ?? []).filter((x) => x.id !== d.id);
    list.unshift(d);
    list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    decisions.value[d.activationId] = list.slice(0, KEEP_DECISIONS);
  }

  function onSignal(s: Signal): void {
    if (s.timeframe !== '1m') return;
    if (!activations.value.some((a) => a.symbol === s.symbol)) return;
    prices.value[s.symbol] = { price: s.candle.close, at: s.closeTime };
  }

  /** (price − entry) × amount for a long, the reverse for a short; null without a price. */
  function unrealised(a: Activation): string | null {
    const p = a.position;
    const last = prices.value[a.symbol]?.price;
    if (!p || !p.entryPrice || !last) return null;
    const diff = new Decimal(last).minus(p.entryPrice);
    return (p.side === 'long' ? diff : diff.neg()).times(p.amount).toDecimalPlaces(8).toFixed();
  }

  // ── actions (errors are thrown to the caller, which shows them verbatim) ──────────────────────
  async function create(input: MethodInput<'bot.create'>): Promise<Activation> {
    const a = await call('bot.create', input);
    put(a);
    decisions.value[a.id] ??= [];
    trades.value[a.id] ??= [];
    void loadEngine().catch(() => undefined);
    return a;
  }
  async function apply(p: Promise<Activation>): Promise<Activation> {
    const a = await p;
    put(a);
    await Promise.all([loadBook(a.id), loadEngine()]);
    return a;
  }
  const start = (id: string) => apply(call('bot.start', { id }));
  const suspend = (id: string) => apply(call('bot.suspend', { id }));
  const stop = (id: string, closePosition: boolean) => apply(call('bot.stop', { id, closePosition }));
  const sell = (id: string) => apply(call('bot.sell', { id }));
  const update = (input: MethodInput<'bot.update'>) => apply(call('bot.update', input));
  async function remove(id: string): Promise<void> {
    await call('bot.delete', { id });
    drop(id);
    await loadEngine();
  }
  async function setEngine(running: boolean): Promise<EngineState> {
    const e = await call('engine.set', { running });
    engine.value = e;
    return e;
  }

  // Another profile: nothing of the previous one's activations may show.
  const session = useSessionStore();
  watch(
    () => session.profile?.id ?? null,
    () => {
      generation++;
      activations.value = [];
      decisions.value = {};
      trades.value = {};
      prices.value = {};
      engine.value = null;
      loaded.value = false;
      lastError.value = '';
    },
    { flush: 'sync' },
  );

  on('bot.updated', (u) => {
    void refreshOne(u.id);
    void loadEngine().catch(() => undefined);
  });
  on('bot.decision', (d) => {
    if (!byId(d.activationId)) return void refreshOne(d.activationId);
    addDecision(d);
    // a decision that placed an order changed the book (position, trades)
    if (d.orderIds.length) void refreshOne(d.activationId);
  });
  on('engine.changed', (e) => (engine.value = e));
  on('heartbeat.signal', onSignal);

  return { activations, engine, decisions, trades, prices, lastError, loaded, live, byId, load, loadEngine, refreshOne, unrealised, create, start, suspend, stop, sell, update, remove, setEngine };
});
