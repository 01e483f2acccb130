import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EventData, MethodOutput } from '@shared/contract';
import { TIMEFRAMES, type Timeframe } from '@shared/timeframes';
import { call, on } from '../api';

type Status = MethodOutput<'heartbeat.status'>;
type Signal = EventData<'heartbeat.signal'>;
type Watched = MethodOutput<'heartbeat.symbols.list'>;

export interface SignalLine {
  key: string;
  timeframe: Timeframe;
  symbol: string;
  openTime: number;
  close: string;
  /** 'stored': loaded from the database at page load (orange); 'live': arrived since (green). */
  origin: 'stored' | 'live';
}
export interface RawLine {
  key: number;
  receivedAt: number;
  message: string;
}

const KEEP = 60;

/** The heartbeat: status (for the header light), watched symbols, signals per timeframe, raw stream. */
export const useHeartbeatStore = defineStore('heartbeat', () => {
  const status = ref<Status | null>(null);
  const symbols = ref<Watched>([]);
  const boxes = ref<Record<Timeframe, SignalLine[]>>(Object.fromEntries(TIMEFRAMES.map((tf) => [tf, []])) as unknown as Record<Timeframe, SignalLine[]>);
  const raw = ref<RawLine[]>([]);
  let rawKey = 0;

  async function loadStatus(): Promise<void> {
    status.value = await call('heartbeat.status');
  }

  /** Fill the boxes from the database: the last closed candles of every watched symbol. */
  async function loadBoxes(): Promise<void> {
    symbols.value = await call('heartbeat.symbols.list');
    const next = Object.fromEntries(TIMEFRAMES.map((tf) => [tf, [] as SignalLine[]])) as unknown as Record<Timeframe, SignalLine[]>;
    await Promise.all(
      TIMEFRAMES.flatMap((tf) =>
        symbols.value.map(async (s) => {
          const rows = await call('candles.query', { exchange: 'binance', symbol: s.symbol, timeframe: tf, limit: KEEP });
          for (const r of rows) next[tf].push({ key: `${tf}:${s.symbol}:${r.openTime}`, timeframe: tf, symbol: s.symbol, openTime: r.openTime, close: r.close, origin: 'stored' });
        }),
      ),
    );
    // Signals that arrived while the rows were being read stay live (green): a load that finishes
    // after them must not turn them back into stored lines or drop them.
    for (const tf of TIMEFRAMES) {
      const live = boxes.value[tf].filter((l) => l.origin === 'live');
      const liveKeys = new Set(live.map((l) => l.key));
      next[tf] = [...live, ...next[tf].filter((l) => !liveKeys.has(l.key))].sort((a, b) => b.openTime - a.openTime).slice(0, KEEP);
    }
    boxes.value = next;
  }

  function addSignal(s: Signal): void {
    const tf = s.timeframe as Timeframe;
    const key = `${tf}:${s.symbol}:${s.openTime}`;
    const list = boxes.value[tf].filter((l) => l.key !== key);
    list.unshift({ key, timeframe: tf, symbol: s.symbol, openTime: s.openTime, close: s.candle.close, origin: 'live' });
    boxes.value[tf] = list.slice(0, KEEP);
  }

  async function addSymbol(symbol: string): Promise<void> {
    symbols.value = await call('heartbeat.symbols.add', { symbol });
  }
  async function removeSymbol(symbol: string): Promise<void> {
    symbols.value = await call('heartbeat.symbols.remove', { symbol });
  }

  on('heartbeat.status', (s) => (status.value = s));
  on('heartbeat.signal', addSignal);
  on('heartbeat.raw', (r) => {
    raw.value.unshift({ key: rawKey++, receivedAt: r.receivedAt, message: r.message });
    if (raw.value.length > KEEP) raw.value.length = KEEP;
  });

  return { status, symbols, boxes, raw, loadStatus, loadBoxes, addSymbol, removeSymbol };
});
