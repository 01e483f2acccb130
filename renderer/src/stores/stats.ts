import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { MethodInput, MethodOutput } from '@shared/contract';
import { call, errorMessage, on } from '../api';
import { t } from '../i18n';

type Summary = MethodOutput<'stats.summary'>;
type Equity = MethodOutput<'stats.equity'>;
type Breakdown = MethodOutput<'stats.bySource'>;
type Trades = MethodOutput<'stats.trades'>;
export type PeriodName = 'today' | '7d' | '30d' | '90d' | 'year' | 'all' | 'custom';
type Period = MethodInput<'stats.summary'>['period'];

/** The Statistics page: one period and broker filter, every figure loaded for it. */
export const useStatsStore = defineStore('stats', () => {
  const period = ref<PeriodName>('30d');
  const customFrom = ref('');
  const customTo = ref('');
  const brokerId = ref('');
  const summary = ref<Summary | null>(null);
  const equity = ref<Equity | null>(null);
  const bySource = ref<Breakdown | null>(null);
  const bySymbol = ref<Breakdown | null>(null);
  const trades = ref<Trades | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const input = computed<{ period: Period; brokerId?: string } | null>(() => {
    let p: Period;
    if (period.value === 'custom') {
      if (!customFrom.value || !customTo.value) return null;
      p = { from: new Date(`${customFrom.value}T00:00:00Z`).toISOString(), to: new Date(`${customTo.value}T23:59:59.999Z`).toISOString() };
    } else p = period.value;
    return { period: p, ...(brokerId.value ? { brokerId: brokerId.value } : {}) };
  });
  const interval = computed(() => (period.value === 'today' || period.value === '7d' ? 'hour' : 'day'));

  let seq = 0;
  async function load(): Promise<void> {
    const i = input.value;
    if (!i) {
      error.value = t('stats.period.needBoth');
      return;
    }
    const mine = ++seq;
    loading.value = true;
    error.value = null;
    try {
      const [s, e, bs, by, t] = await Promise.all([
        call('stats.summary', i),
        call('stats.equity', { ...i, interval: interval.value }),
        call('stats.bySource', i),
        call('stats.bySymbol', i),
        call('stats.trades', { ...i, limit: 2000 }),
      ]);
      if (mine !== seq) return;
      summary.value = s;
      equity.value = e;
      bySource.value = bs;
      bySymbol.value = by;
      trades.value = t;
    } catch (x) {
      if (mine === seq) error.value = errorMessage(x);
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  /** The trades of the period as a CSV file, saved by the browser. */
  async function exportCsv(): Promise<void> {
    const i = input.value;
    if (!i) return;
    try {
      const { filename, csv } = await call('stats.export', i);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (x) {
      error.value = errorMessage(x);
    }
  }

  // new fills: the figures follow (once things settle)
  let timer: ReturnType<typeof setTimeout> | null = null;
  on('positions.updated', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (summary.value) void load();
    }, 1500);
  });

  return { period, customFrom, customTo, brokerId, summary, equity, bySource, bySymbol, trades, loading, error, interval, load, exportCsv };
});
