import type { Handlers } from '../api/dispatch';
import type { MarketCandlesService } from './service';

/** Handlers of the charts contract (shared/contract/charts.ts). */
export function chartHandlers(d: { candles: MarketCandlesService }): Pick<Handlers, 'markets.candles'> {
  return {
    'markets.candles': (q, { profile }) => d.candles.candles(profile.id, q),
  };
}
