import Decimal from 'decimal.js';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { call, errorMessage, on } from '../api';

export type Capabilities = MethodOutput<'trading.capabilities'>;
export type Portfolio = MethodOutput<'portfolio.get'>;
export type MarketRow = MethodOutput<'trading.markets'>['markets'][number];
export type Ticker = MethodOutput<'tickers.get'>;
export type Order = MethodOutput<'orders.place'>;
export type Position = MethodOutput<'positions.list'>[number];

/**
 * The Manual trading page's data: the chosen broker, its capabilities, portfolio and markets, the
 * chosen market's ticker, and the open / closed orders and positions. Every list refreshes after
 * each action, on `orders.updated` / `positions.updated`, and periodically while the page is open.
 */
export const useTradingStore = defineStore('trading', () => {
  const brokerId = ref<string | null>(null);
  const capabilities = ref<Capabilities | null>(null);
  const portfolio = ref<Portfolio | null>(null);
  const markets = ref<MarketRow[]>([]);
  const marketsTotal = ref(0);
  const quotes = ref<string[]>([]);
  const quote = ref<string>('USDT');
  const search = ref('');
  const symbol = ref<string | null>(null);
  const ticker = ref<Ticker | null>(null);
  const openOrders = ref<Order[]>([]);
  const history = ref<Order[]>([]);
  const positions = ref<Position[]>([]);
  const errors = ref<{ portfolio: string; markets: string; orders: string; ticker: string; capabilities: string }>({ portfolio: '', markets: '', orders: '', ticker: '', capabilities: '' });
  const loading = ref({ portfolio: false, orders: false, markets: false });

  const market = computed(() => markets.value.find((m) => m.symbol === symbol.value) ?? null);

  async function guard(key: keyof typeof errors.value, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      errors.value[key] = '';
    } catch (e) {
      errors.value[key] = errorMessage(e);
    }
  }

  async function loadCapabilities(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    await guard('capabilities', async () => {
      const c = await call('trading.capabilities', { brokerId: id });
      if (brokerId.value === id) capabilities.value = c;
    });
  }

  async function loadPortfolio(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    loading.value.portfolio = true;
    await guard('portfolio', async () => {
      const p = await call('portfolio.get', { brokerId: id });
      if (brokerId.value === id) portfolio.value = p;
    });
    loading.value.portfolio = false;
  }

  async function loadMarkets(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    loading.value.markets = true;
    await guard('markets', async () => {
      const r = await call('trading.markets', { brokerId: id, quote: quote.value === 'ALL' ? undefined : quote.value, search: search.value.trim() || undefined, limit: 300 });
      if (brokerId.value !== id) return;
      markets.value = r.markets;
      marketsTotal.value = r.total;
      quotes.value = r.quotes;
      if (!symbol.value && r.markets[0]) symbol.value = r.markets.find((m) => m.symbol === 'BTC/USDT')?.symbol ?? r.markets[0].symbol;
    });
    loading.value.markets = false;
  }

  async function loadTicker(): Promise<void> {
    const id = brokerId.value;
    const s = symbol.value;
    if (!id || !s) return;
    await guard('ticker', async () => {
      const t = await call('tickers.get', { brokerId: id, symbol: s });
      if (brokerId.value === id && symbol.value === s) ticker.value = t;
    });
  }

  let ordersBusy: Promise<void> | null = null;
  /** Open orders (synced from the exchange by the core), history and positions. */
  function loadOrders(): Promise<void> {
    const id = brokerId.value;
    if (!id) return Promise.resolve();
    ordersBusy ??= (async () => {
      loading.value.orders = true;
      await guard('orders', async () => {
        const [open, closed, pos] = await Promise.all([call('orders.open', { brokerId: id }), call('orders.history', { brokerId: id, days: 30 }), call('positions.list', { brokerId: id })]);
        if (brokerId.value !== id) return;
        openOrders.value = open;
        history.value = closed;
        positions.value = pos;
      });
      loading.value.orders = false;
    })().finally(() => (ordersBusy = null));
    return ordersBusy;
  }

  async function selectBroker(id: string | null): Promise<void> {
    if (id === brokerId.value) return;
    brokerId.value = id;
    capabilities.value = null;
    portfolio.value = null;
    markets.value = [];
    symbol.value = null;
    ticker.value = null;
    openOrders.value = [];
    history.value = [];
    positions.value = [];
    if (!id) return;
    await Promise.all([loadCapabilities(), loadPortfolio(), loadMarkets().then(loadTicker), loadOrders()]);
  }

  async function selectSymbol(s: string): Promise<void> {
    symbol.value = s;
    ticker.value = null;
    await loadTicker();
  }

  /** After any order action: everything that may have changed. */
  async function refreshAfterAction(): Promise<void> {
    await Promise.all([loadOrders(), loadPortfolio()]);
  }

  async function cancel(orderId: string): Promise<Order> {
    try {
      return await call('orders.cancel', { orderId });
    } finally {
      await refreshAfterAction();
    }
  }

  async function modify(orderId: string, patch: { amount?: string; price?: string }): Promise<MethodOutput<'orders.modify'>> {
    try {
      return await call('orders.modify', { orderId, ...patch });
    } finally {
      await refreshAfterAction();
    }
  }

  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  const soon = () => {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refreshAfterAction();
    }, 400);
  };
  on('orders.updated', (e) => e.brokerId === brokerId.value && soon());
  on('positions.updated', (e) => e.brokerId === brokerId.value && soon());

  return {
    brokerId, capabilities, portfolio, markets, marketsTotal, quotes, quote, search, symbol, ticker, openOrders, history, positions, errors, loading, market,
    selectBroker, selectSymbol, loadMarkets, loadPortfolio, loadOrders, loadTicker, refreshAfterAction, cancel, modify,
  };
});

/** A decimal string for display: thousands grouped, `dp` decimals when given (rounded half-up), never through a float. */
export function fmtDec(s: string | null | undefined, dp?: number): string {
  if (s === null || s === undefined || s === '') return '—';
  let d: Decimal;
  try {
    d = new Decimal(s);
  } catch {
    return s;
  }
  const text = dp === undefined ? d.toFixed() : d.toFixed(dp, Decimal.ROUND_HALF_UP);
  const [int = '', frac] = text.replace('-', '').split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${d.isNegative() && !d.isZero() ? '−' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

/** Decimals shown for a quote currency's amounts (stablecoins: 2). */
export function quoteDp(quote: string | null | undefined): number {
  return quote && /^(USDT|USDC|FDUSD|BUSD|TUSD|DAI|EUR|USD)$/.test(quote) ? 2 : 8;
}
