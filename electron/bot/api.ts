import type { Handlers } from '../api/dispatch';
import type { BotEngine } from './engine';
import type { LiveVsBacktest } from './compare';
import type { RoadToLive } from './gate';

type BotMethod =
  | 'bot.list' | 'bot.get' | 'bot.create' | 'bot.update' | 'bot.start' | 'bot.suspend' | 'bot.stop' | 'bot.sell' | 'bot.delete'
  | 'bot.reconcile.adopt' | 'bot.trades' | 'bot.decisions' | 'engine.get' | 'engine.set' | 'bot.gate' | 'bot.compare';

/** Handlers of the bot contract (shared/contract/bot.ts). */
export function botHandlers(bot: BotEngine, road: RoadToLive, compare: LiveVsBacktest): Pick<Handlers, BotMethod> {
  return {
    'bot.list': async (_input, { profile }) => bot.list(profile.id),
    'bot.get': async ({ id }, { profile }) => bot.get(profile.id, id),
    // The road to live (gate.ts): a live activation with red steps starts only with the explicit override, recorded.
    'bot.create': async ({ override, ...input }, { profile }) => {
      // checked once the input is valid (a bad budget is named as such, gate or not), before anything is stored
      let g: Awaited<ReturnType<RoadToLive['assertOpen']>> = null;
      const a = await bot.create(profile.id, input, async () => {
        g = await road.assertOpen(profile.id, input, override === true);
      });
      if (override) await road.recordOverride(profile.id, a.id, g);
      return a;
    },
    'bot.update': async (input, { profile }) => bot.update(profile.id, input),
    'bot.start': async ({ id, override }, { profile }) => {
      const a = await bot.get(profile.id, id);
      if (!a.brokerId || !a.strategyId) return bot.startActivation(profile.id, id);
      // an override confirmed for this activation at this version holds for its Resume
      const confirmed = override === true || (await road.overridden(profile.id, id, a.version));
      const g = await road.assertOpen(profile.id, { strategyId: a.strategyId, version: a.version, symbol: a.symbol, timeframe: a.timeframe, brokerId: a.brokerId }, confirmed);
      const started = await bot.startActivation(profile.id, id);
      if (override) await road.recordOverride(profile.id, id, g);
      return started;
    },
    'bot.suspend': async ({ id }, { profile }) => bot.suspendActivation(profile.id, id),
    'bot.stop': async ({ id, closePosition }, { profile }) => bot.stopActivation(profile.id, id, closePosition),
    'bot.sell': async ({ id }, { profile }) => bot.sell(profile.id, id),
    'bot.reconcile.adopt': async ({ id }, { profile }) => bot.adopt(profile.id, id),
    'bot.delete': async ({ id }, { profile }) => bot.delete(profile.id, id),
    'bot.trades': async ({ id, limit }, { profile }) => bot.trades(profile.id, id, limit),
    'bot.decisions': async ({ id, limit }, { profile }) => bot.decisions(profile.id, id, limit),
    'engine.get': async (_input, { profile }) => bot.engineGet(profile.id),
    'bot.gate': async ({ id }, { profile }) => road.gate(profile.id, id),
    'bot.compare': async ({ id }, { profile }) => compare.compare(profile.id, id),
    'engine.set': async ({ running }, { profile }) => bot.engineSet(profile.id, running),
  };
}
