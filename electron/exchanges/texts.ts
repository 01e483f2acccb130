import { sentence } from '../../shared/errors';
import type { MessageKey, Params, Text } from '../../shared/i18n';

/**
 * A sentence the core writes for a person, by key: the English `message` (the public API, scripts,
 * logs) and, beside it, the catalogue key and parameters the renderer words in the profile's language.
 */
export interface Worded {
  key: MessageKey;
  params: Params;
  message: string;
}

export function worded(key: MessageKey, params: Record<string, unknown> = {}): Worded {
  const s = sentence(key, params);
  return { key, params: s.params, message: s.text };
}

/**
 * Several sentences as one message, in order, joined by "; " (`coreTrading.list`, nested to the
 * right): its English wording is the same as `items.map((i) => i.message).join('; ')`, and it is
 * worded line by line in the renderer's language. Null for no items.
 */
export function listText(items: readonly { key: string; params?: Params }[]): Text | null {
  let out: Text | null = null;
  for (let i = items.length - 1; i >= 0; i--) {
    const item: Text = { key: items[i]!.key, params: items[i]!.params ?? {} };
    out = out ? { key: 'coreTrading.list', params: { first: item, rest: out } } : item;
  }
  return out;
}
