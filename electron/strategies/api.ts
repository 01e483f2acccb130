import type { Handlers } from '../api/dispatch';
import type { StrategyService } from './service';

type StrategyMethod =
  | 'strategies.list' | 'strategies.get' | 'strategies.create' | 'strategies.update' | 'strategies.duplicate' | 'strategies.delete'
  | 'strategies.check' | 'strategies.templates' | 'strategies.versions';

/** Handlers of the strategies contract (shared/contract/strategies.ts). */
export function strategyHandlers(strategies: StrategyService): Pick<Handlers, StrategyMethod> {
  return {
    'strategies.list': async (_input, { profile }) => strategies.list(profile.id),
    'strategies.get': async ({ id, version }, { profile }) => strategies.get(profile.id, id, version),
    'strategies.create': async (input, { profile }) => strategies.create(profile.id, input),
    'strategies.update': async (input, { profile }) => strategies.update(profile.id, input),
    'strategies.duplicate': async ({ id, name }, { profile }) => strategies.duplicate(profile.id, id, name),
    'strategies.delete': async ({ id }, { profile }) => {
      await strategies.delete(profile.id, id);
      return { ok: true as const };
    },
    'strategies.check': async ({ code }) => strategies.check(code),
    'strategies.templates': async () => strategies.templates(),
    'strategies.versions': async ({ id }, { profile }) => strategies.versions(profile.id, id),
  };
}
