/**
 * French and English, one catalogue for the core and the renderer.
 *
 * Messages live in `shared/i18n/<locale>/<area>.ts`, one file per area of the app, nested objects of
 * strings. The French file of an area is typed `satisfies Shape<typeof en>`, so a key missing (or
 * extra) in French is a type error; `i18n.test.ts` also checks that both sides use the same
 * placeholders. A key is a dotted path: `area.group.name`.
 *
 * Message format (deliberately small, the same on both sides):
 * - `{name}` is replaced by the parameter `name` (left as is when the parameter is missing); a
 *   parameter may itself be a `{key, params}` message, worded in the same language (an error's cause);
 * - `one|other` picks a form by the number in the parameter `count` with Intl.PluralRules (French
 *   counts 0 and 1 as singular, English only 1). Never put `|` in a message otherwise.
 */
import { en, fr } from './catalogue';

export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
/** A message by key, e.g. the cause inside another error's message (worded in the same language). */
export interface Text {
  key: string;
  params?: Params;
}
export type Params = Record<string, string | number | null | undefined | Text>;

/** The French side of an area must have exactly the English side's keys. */
export type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];
/** Every message key, e.g. `common.save`. */
export type MessageKey = Leaves<typeof en>;

export const catalogues: Record<Locale, unknown> = { en, fr };

/** The catalogue value at a dotted path, or undefined. */
export function lookup(locale: Locale, key: string): string | undefined {
  let node: unknown = catalogues[locale];
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

export function hasKey(key: string): boolean {
  return lookup('en', key) !== undefined;
}

const plurals = new Map<Locale, Intl.PluralRules>();

/** Fill a template: the plural form first (by `count`), then the `{name}` placeholders. */
export function format(locale: Locale, template: string, params?: Params): string {
  let text = template;
  if (text.includes('|')) {
    const forms = text.split('|');
    const count = Number(params?.count);
    let rules = plurals.get(locale);
    if (!rules) plurals.set(locale, (rules = new Intl.PluralRules(locale)));
    text = (Number.isFinite(count) && rules.select(count) === 'one' ? forms[0] : forms[forms.length - 1]) ?? '';
  }
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    if (v !== null && typeof v === 'object') return translate(locale, v.key, v.params);
    return v === undefined || v === null ? whole : String(v);
  });
}

/** The message for a key in a language; the key itself when it does not exist (a test forbids that). */
export function translate(locale: Locale, key: string, params?: Params): string {
  const template = lookup(locale, key) ?? lookup('en', key);
  return template === undefined ? key : format(locale, template, params);
}

/** `fr-CA` → `fr`; anything not French → `en`. */
export function pickLocale(tag: string | null | undefined): Locale {
  return tag && tag.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** Every key of a catalogue subtree (for the completeness test). */
export function keysOf(node: unknown, prefix = ''): string[] {
  if (typeof node === 'string') return [prefix];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => keysOf(v, prefix ? `${prefix}.${k}` : k));
}
