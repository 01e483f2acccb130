import type { Handlers } from '../api/dispatch';
import type { BacktestService } from './service';

type BacktestMethod = 'backtests.run' | 'backtests.cancel' | 'backtests.get' | 'backtests.list' | 'backtests.delete' | 'backtests.lookahead' | 'backtests.optimise' | 'backtests.strategies' | 'candles.import' | 'candles.datasets';

/** Handlers of the backtest contract (shared/contract/backtest.ts). */
export function backtestHandlers(s: BacktestService): Pick<Handlers, BacktestMethod> {
  return {
    'backtests.run': (input, { profile }) => s.run(profile.id, input),
    'backtests.cancel': ({ runId }, { profile }) => s.cancel(profile.id, runId),
    'backtests.get': ({ runId }, { profile }) => s.get(profile.id, runId),
    'backtests.list': (_input, { profile }) => s.list(profile.id),
    'backtests.delete': ({ runId }, { profile }) => s.delete(profile.id, runId),
    'backtests.lookahead': (input, { profile }) => s.lookahead(profile.id, input),
    'backtests.optimise': (input, { profile }) => s.optimise(profile.id, input),
    'backtests.strategies': (_input, { profile }) => s.strategies(profile.id),
    'candles.import': (input) => s.importCsv(input),
    'candles.datasets': () => s.datasets(),
  };
}
