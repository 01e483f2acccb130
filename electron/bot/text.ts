import { isAppError, sentence, type CoreSentence } from '../../shared/errors';
import type { Params, Text } from '../../shared/i18n';

/**
 * A sentence the bot writes for a person (a decision's reason or error, a state reason, a road-to-live
 * step): its English `text` (stored and sent as before: the public API) and its catalogue `key` and
 * `params` (stored beside it, worded by the renderer in the profile's language).
 */
export type Said = CoreSentence;

/** A sentence by key: its English from the English catalogue. A `Said` parameter nests as `{key, params}`. */
export const say = sentence;

/** An error as a sentence: an AppError keeps its key and params; anything else (an exception's own words) is passed as is. */
export function saidOf(e: unknown): Said {
  if (isAppError(e)) return { text: e.message, key: e.key, params: e.params };
  return say('errors.external', { reason: e instanceof Error ? e.message : String(e) });
}

/** A sentence given as English text with an optional key (the kernel's decision reason). */
export function saidAs(text: string, key: string | null | undefined, params: Params | null | undefined): Said {
  return key ? { text, key, params: params ?? {} } : say('errors.external', { reason: text });
}

/** The nested form of a sentence inside another one's parameters. */
export const nested = (s: Said): Text => ({ key: s.key, params: s.params });
