import type { Handlers } from '../api/dispatch';
import type { BotEngine } from './engine';

type BotMethod =
  | 'bot.list' | 'bot.get' | 'bot.create' | 'bot.update' | 'bot.start' | 'bot.suspend' | 'bot.stop' | 'bot.sell' | 'bot.delete'
  | 'bot.reconcile.adopt' | 'bot.trades' | 'bot.decisions' | 'engine.get' | 'engine.set';

/** Handlers of the bot contract (shared/contract/bot.ts). */
export function botHandlers(bot: BotEngine): Pick<Handlers, BotMethod> {
  return {
    'bot.list': async (_input, { profile }) => bot.list(profile.id),
    'bot.get': async ({ id }, { profile }) => bot.get(profile.id, id),
    'bot.create': async (input, { profile }) => bot.create(profile.id, input),
    'bot.update': async (input, { profile }) => bot.update(profile.id, input),
    'bot.start': async ({ id }, { profile }) => bot.startActivation(profile.id, id),
    'bot.suspend': async ({ id }, { profile }) => bot.suspendActivation(profile.id, id),
    'bot.stop': async ({ id, closePosition }, { profile }) => bot.stopActivation(profile.id, id, closePosition),
    'bot.sell': async ({ id }, { profile }) => bot.sell(profile.id, id),
    'bot.reconcile.adopt': async ({ id }, { profile }) => bot.adopt(profile.id, id),
    'bot.delete': async ({ id }, { profile }) => bot.delete(profile.id, id),
    'bot.trades': async ({ id, limit }, { profile }) => bot.trades(profile.id, id, limit),
    'bot.decisions': async ({ id, limit }, { profile }) => bot.decisions(profile.id, id, limit),
    'engine.get': async (_input, { profile }) => bot.engineGet(profile.id),
    'engine.set': async ({ running }, { profile }) => bot.engineSet(profile.id, running),
  };
}
