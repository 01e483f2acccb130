import type { Handlers } from '../api/dispatch';
import type { EventBus } from '../events';
import type { AiService } from './service';
import type { AiSettingsStore } from './settings';

type AiMethod = 'ai.settings.get' | 'ai.settings.update' | 'ai.models' | 'ai.ask' | 'ai.cancel';

export function aiHandlers(d: { ai: AiService; settings: AiSettingsStore; bus: EventBus }): Pick<Handlers, AiMethod> {
  return {
    'ai.settings.get': (_i, { profile }) => d.settings.get(profile.id),
    'ai.settings.update': async (patch, { profile }) => {
      const s = await d.settings.update(profile.id, patch);
      d.bus.emit('ai.settings.changed', s, { profileId: profile.id });
      return s;
    },
    'ai.models': (input, { profile }) => d.ai.models(profile.id, input?.provider),
    'ai.ask': async (input, { profile }) => {
      const { requestId } = await d.ai.ask(profile.id, input);
      return { requestId };
    },
    'ai.cancel': async ({ requestId }, { profile }) => ({ cancelled: d.ai.cancel(profile.id, requestId) }),
  };
}
