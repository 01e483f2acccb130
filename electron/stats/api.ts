import type { Handlers } from '../api/dispatch';
import type { StatsQueries } from './queries';
import type { StatsService } from './service';

type StatsMethod = 'stats.settings' | 'stats.setCurrency' | 'stats.summary' | 'stats.equity' | 'stats.bySource' | 'stats.bySymbol' | 'stats.trades' | 'stats.export' | 'stats.snapshot';

/** Handlers of the statistics contract (shared/contract/stats.ts). */
export function statsHandlers(d: { service: StatsService; queries: StatsQueries }): Pick<Handlers, StatsMethod> {
  return {
    'stats.settings': async (_i, { profile }) => ({ currency: await d.service.currency(profile.id), suggestions: await d.service.currencySuggestions(profile.id) }),
    'stats.setCurrency': async ({ currency }, { profile }) => ({ currency: await d.service.setCurrency(profile.id, currency) }),
    'stats.summary': (input, { profile }) => d.queries.summary(profile.id, input),
    'stats.equity': (input, { profile }) => d.queries.equity(profile.id, input),
    'stats.bySource': (input, { profile }) => d.queries.breakdown(profile.id, input, 'book'),
    'stats.bySymbol': (input, { profile }) => d.queries.breakdown(profile.id, input, 'symbol'),
    'stats.trades': (input, { profile }) => d.queries.trades(profile.id, input),
    'stats.export': (input, { profile }) => d.queries.exportCsv(profile.id, input),
    'stats.snapshot': async ({ brokerId }, { profile }) => {
      const r = await d.service.snapshot(profile.id, brokerId, 'manual');
      return { takenAt: r.takenAt.toISOString(), value: r.value.toFixed(), missing: r.missing };
    },
  };
}
