import type { HeartbeatSignal } from '../../shared/contract/heartbeat';
import type { Timeframe } from '../../shared/timeframes';
import type { StoredCandle } from '../../electron/heartbeat/store';

/**
 * The slice of the heartbeat the bot engine uses (`onSignal`, `retain`, `recentCandles`,
 * `addSymbol`), for bot tests whose subject is not the signal path (reconciliation, crashes): the
 * test hands it candles and fires signals itself. The signal path on the real heartbeat and stream
 * simulator is test/bot.test.ts's.
 */
export interface StandInHeartbeat {
  onSignal(listener: (s: HeartbeatSignal) => void): () => void;
  retain(symbol: string, timeframe: Timeframe, n: number): () => void;
  recentCandles(symbol: string, timeframe: Timeframe, n: number, until?: number): Promise<StoredCandle[]>;
  addSymbol(symbol: string): Promise<{ exchange: 'binance'; symbol: string; addedAt: number }[]>;
  /** Candles known for (symbol, timeframe), oldest first. */
  candles: Map<string, StoredCandle[]>;
  fire(s: HeartbeatSignal): void;
}

export function standInHeartbeat(): StandInHeartbeat {
  const listeners = new Set<(s: HeartbeatSignal) => void>();
  const candles = new Map<string, StoredCandle[]>();
  return {
    candles,
    onSignal(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    retain: () => () => undefined,
    recentCandles: async (symbol, timeframe, n, until = Infinity) => (candles.get(`${symbol}|${timeframe}`) ?? []).filter((c) => c.openTime <= until).slice(-n),
    addSymbol: async (symbol) => [{ exchange: 'binance' as const, symbol, addedAt: Date.now() }],
    fire(s) {
      for (const l of listeners) l(s);
    },
  };
}
