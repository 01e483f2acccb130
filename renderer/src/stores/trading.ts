import Decimal from 'decimal.js';
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { ApiError, call, errorMessage, on } from '../api';
import { locale } from '../i18n';
import { useSessionStore } from './session';

export type Capabilities = MethodOutput<'trading.capabilities'>;
export type Portfolio = MethodOutput<'portfolio.get'>;
export type MarketRow = MethodOutput<'trading.markets'>['markets'][number];
export type Ticker = MethodOutput<'tickers.get'>;
export type Order = MethodOutput<'orders.place'>;
export type Position = MethodOutput<'positions.list'>[number];

/** A client order id for an order from the ticket: `a3m` + 24 hex digits, as the core makes them for manual orders. */
export function newTicketClientOrderId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `a3m${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Whether a failed `orders.place` may still have placed the order: no answer came back (the
 * connection dropped; the core was shutting down), or the core answered that the outcome is not
 * known yet. Executing the same ticket again must then reuse its client order id.
 */
export function mayHaveBeenPlaced(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true;
  if (e.code === 'unavailable') return true;
  const status = (e.details as { order?: { status?: string } } | undefined)?.order?.status;
  return status === 'intent' || status === 'sent' || status === 'unknown';
}

/**
 * The Manual trading page's data: the chosen broker, its capabilities, portfolio and markets, the
 * chosen market's ticker, and the open / closed orders and positions. Every list refreshes after
 * each action, on `orders.updated` / `positions.updated`, on a testnet switch, and periodically while
 * the page is open. Everything is cleared when another profile logs in.
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
  /**
   * The order ticket's client order id, per validated ticket (`key`: broker, market, side, type,
   * amount, price). Kept here, not in the ticket, so that it survives the page being rebuilt after a
   * dropped connection (headless: a new connection means logging in again).
   */
  const ticketOrder = ref<{ key: string; clientOrderId: string } | null>(null);

  const market = computed(() => markets.value.find((m) => m.symbol === symbol.value) ?? null);

  /** Runs a load for broker `id`; its error (or success) is shown only if that broker is still the one chosen. */
  async function guard(key: keyof typeof errors.value, id: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      if (brokerId.value === id) errors.value[key] = '';
    } catch (e) {
      if (brokerId.value === id) errors.value[key] = errorMessage(e);
    }
  }

  async function loadCapabilities(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    await guard('capabilities', id, async () => {
      const c = await call('trading.capabilities', { brokerId: id });
      if (brokerId.value === id) capabilities.value = c;
    });
  }

  async function loadPortfolio(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    loading.value.portfolio = true;
    await guard('portfolio', id, async () => {
      const p = await call('portfolio.get', { brokerId: id });
      if (brokerId.value === id) portfolio.value = p;
    });
    loading.value.portfolio = false;
  }

  async function loadMarkets(): Promise<void> {
    const id = brokerId.value;
    if (!id) return;
    loading.value.markets = true;
    await guard('markets', id, async () => {
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
    await guard('ticker', id, async () => {
      const t = await call('tickers.get', { brokerId: id, symbol: s });
      if (brokerId.value === id && symbol.value === s) ticker.value = t;
    });
  }

  let ordersBusy: { id: string; done: Promise<void> } | null = null;
  /** Open orders (synced from the exchange by the core), history and positions. One load at a time per broker. */
  function loadOrders(): Promise<void> {
    const id = brokerId.value;
    if (!id) return Promise.resolve();
    if (ordersBusy?.id === id) return ordersBusy.done;
    const done = (async () => {
      loading.value.orders = true;
      await guard('orders', id, async () => {
        const [open, closed, pos] = await Promise.all([call('orders.open', { brokerId: id }), call('orders.history', { brokerId: id, days: 30 }), call('positions.list', { brokerId: id })]);
        if (brokerId.value !== id) return;
        openOrders.value = open;
        history.value = closed;
        positions.value = pos;
      });
      loading.value.orders = false;
    })().finally(() => {
      if (ordersBusy?.done === done) ordersBusy = null;
    });
    ordersBusy = { id, done };
    return done;
  }

  /**
   * The client order id to send the ticket `key` with: the same as last time while that order may
   * have been placed without an answer (Execute again then answers that order instead of placing a
   * second one), a new one for any other ticket.
   */
  function ticketClientOrderId(key: string): string {
    if (ticketOrder.value?.key !== key) ticketOrder.value = { key, clientOrderId: newTicketClientOrderId() };
    return ticketOrder.value.clientOrderId;
  }
  /** The core answered for this client order id (placed, or refused): the next order needs a new one. */
  function ticketAnswered(clientOrderId: string): void {
    if (ticketOrder.value?.clientOrderId === clientOrderId) ticketOrder.value = null;
  }

  /** Forget everything (another profile logged in: nothing of the previous one may show). */
  function reset(): void {
    brokerId.value = null;
    capabilities.value = null;
    portfolio.value = null;
    markets.value = [];
    marketsTotal.value = 0;
    quotes.value = [];
    quote.value = 'USDT';
    search.value = '';
    symbol.value = null;
    ticker.value = null;
    openOrders.value = [];
    history.value = [];
    positions.value = [];
    errors.value = { portfolio: '', markets: '', orders: '', ticker: '', capabilities: '' };
    loading.value = { portfolio: false, orders: false, markets: false };
    ticketOrder.value = null;
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
  // Live ↔ testnet: another account — its portfolio, markets, orders and positions.
  on('app.testnet.changed', () => {
    if (brokerId.value) void Promise.all([loadPortfolio(), loadMarkets().then(loadTicker), loadOrders()]);
  });

  // Another profile logs in: clear before anything renders (synchronously), so it never sees the
  // previous profile's portfolio or orders. Logging out and back in as the same profile keeps them.
  const session = useSessionStore();
  let owner: string | null = session.profile?.id ?? null;
  watch(
    () => session.profile?.id ?? null,
    (id) => {
      if (id === null || id === owner) return;
      if (owner !== null) reset();
      owner = id;
    },
    { flush: 'sync' },
  );

  return {
    brokerId, capabilities, portfolio, markets, marketsTotal, quotes, quote, search, symbol, ticker, openOrders, history, positions, errors, loading, market,
    selectBroker, selectSymbol, loadMarkets, loadPortfolio, loadOrders, loadTicker, refreshAfterAction, cancel, modify, reset, ticketClientOrderId, ticketAnswered,
  };
});

/** Separators of the language: 1,234.5 in English, 1 234,5 in French (narrow no-break space). */
const SEPARATORS = { en: { group: ',', decimal: '.' }, fr: { group: '\u202f', decimal: ',' } } as const;

/**
 * A decimal string for display in the current language: thousands grouped, `dp` decimals when given
 * (rounded half-up), never through a float.
 */
export function fmtDec(s: string | null | undefined, dp?: number): string {
  if (s === null || s === undefined || s === '') return '—';
  let d: Decimal;
  try {
    d = new Decimal(s);
  } catch {
    return s;
  }
  const sep = SEPARATORS[locale.value];
  const text = dp === undefined ? d.toFixed() : d.toFixed(dp, Decimal.ROUND_HALF_UP);
  const [int = '', frac] = text.replace('-', '').split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, sep.group);
  return `${d.isNegative() && !d.isZero() ? '−' : ''}${grouped}${frac !== undefined ? `${sep.decimal}${frac}` : ''}`;
}

/** A decimal for an input field, the same in every language: at most `dp` decimals, rounded half-up, no grouping. */
export function plainDec(s: string, dp: number): string {
  try {
    return new Decimal(s).toFixed(dp, Decimal.ROUND_HALF_UP);
  } catch {
    return s;
  }
}

/**
 * A number typed in an input field, as a plain decimal string: in English `,` groups thousands
 * (1,234.5); in French `,` is the decimal mark and spaces group (1 234,5); a `.` is a decimal point
 * in both.
 */
export function cleanDecimal(s: string): string {
  const t = s.trim();
  return locale.value === 'fr' ? t.replace(/[\s\u00a0\u202f]/g, '').replace(',', '.') : t.replace(/,/g, '');
}

/** Decimals shown for a quote currency's amounts (stablecoins: 2). */
export function quoteDp(quote: string | null | undefined): number {
  return quote && /^(USDT|USDC|FDUSD|BUSD|TUSD|DAI|EUR|USD)$/.test(quote) ? 2 : 8;
}
