import type { z } from 'zod';
import { keysOf, lookup, type MessageKey, type Params } from '../../shared/i18n';
import { en } from '../../shared/i18n/catalogue';

/**
 * One refused input field as it crosses the API: its path, zod's English `message` (kept for scripts),
 * and a catalogue key with parameters the renderer words in the person's language. Parameters come
 * from the schema (a minimum, the allowed values, the unknown field names), never from the input
 * itself: a secret typed in a wrong field cannot leak through them.
 */
export interface InputIssue {
  path: string;
  message: string;
  key: MessageKey;
  params: Params;
}

/** The contract's own refinement messages (shared/contract/*.ts) → their keys, by their English text. */
const customKeys = new Map<string, MessageKey>(keysOf(en.errors.input.custom, 'errors.input.custom').map((k) => [lookup('en', k)!, k as MessageKey]));

export function customKey(message: string): MessageKey | undefined {
  return customKeys.get(message);
}

type Issue = z.core.$ZodIssue;

function keyOf(i: Issue): { key: MessageKey; params: Params } {
  // a message the contract wrote itself ('name is required') is worded by its own key, whatever the check
  const custom = customKey(i.message);
  if (custom) return { key: custom, params: {} };
  switch (i.code) {
    case 'invalid_type':
      if (/received undefined$/.test(i.message)) return { key: 'errors.input.required', params: {} };
      return { key: 'errors.input.type', params: { expected: i.expected } };
    case 'too_small': {
      const count = Number(i.minimum);
      if (i.origin === 'string') return { key: count === 1 ? 'errors.input.empty' : 'errors.input.minLength', params: { count } };
      if (i.origin === 'array' || i.origin === 'set') return { key: 'errors.input.minItems', params: { count } };
      return { key: i.inclusive === false ? 'errors.input.above' : 'errors.input.atLeast', params: { minimum: String(i.minimum) } };
    }
    case 'too_big': {
      const count = Number(i.maximum);
      if (i.origin === 'string') return { key: 'errors.input.maxLength', params: { count } };
      if (i.origin === 'array' || i.origin === 'set') return { key: 'errors.input.maxItems', params: { count } };
      return { key: i.inclusive === false ? 'errors.input.below' : 'errors.input.atMost', params: { maximum: String(i.maximum) } };
    }
    case 'invalid_format':
      return i.format === 'regex' ? { key: 'errors.input.format', params: {} } : { key: 'errors.input.formatNamed', params: { format: i.format } };
    case 'invalid_value':
      return { key: 'errors.input.oneOf', params: { options: i.values.map((v) => String(v)).join(', ') } };
    case 'unrecognized_keys':
      return { key: 'errors.input.unknownFields', params: { count: i.keys.length, fields: i.keys.join(', ') } };
    case 'not_multiple_of':
      return { key: 'errors.input.multipleOf', params: { divisor: String(i.divisor) } };
    default:
      return { key: 'errors.input.invalid', params: {} };
  }
}

export function zodIssue(i: Issue): InputIssue {
  return { path: i.path.join('.') || '(params)', message: i.message, ...keyOf(i) };
}
