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
 * - numbers: the core passes amounts and counts as plain decimal strings (`0.015`, exact digits). In
 *   French, a parameter named in `NUMBER_PARAMS` whose value is a plain decimal (`/^-?\d+(\.\d+)?$/`)
 *   is written the French way, as Intl fr-FR writes it (`0,015`, `12 345,5` with U+202F between
 *   thousands), on the string itself: no digit is added, dropped or rounded. Every other parameter
 *   (a symbol, an id, a version, a time, an exchange's words) is left exactly as it came; English
 *   stays plain (its text is what scripts and the stored columns read).
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

/**
 * The parameter names that carry a quantity (an amount, a price, a count, a duration, a percentage)
 * wherever they appear in the catalogue. A name that also carries other things elsewhere (`value`
 * quotes a sender's raw input, `error`, `status`, `code`, `id`, `line`, `version`, `port`…) is not here:
 * its numbers stay as they came. The value must also be a plain decimal, so a name here that carries a
 * timeframe or an ISO date is left alone too.
 */
export const NUMBER_PARAMS: ReadonlySet<string> = new Set([
  // amounts and prices
  'amount', 'price', 'cost', 'filled', 'left', 'held', 'excess', 'requested', 'required', 'free', 'have', 'need',
  'own', 'next', 'others', 'budget', 'min', 'max', 'minimum', 'maximum', 'step', 'tick', 'nearest', 'divisor',
  'sl', 'tp', 'stopLoss', 'takeProfit', 'level', 'low', 'high', 'open', 'close', 'fee', 'fees', 'unrealised',
  'sum', 'gap', 'start', 'flows', 'bad', 'v', 'live', 'backtest',
  // results and ratios
  'ret', 'dd', 'rate', 'factor', 'percent',
  // counts and durations
  'count', 'total', 'shown', 'found', 'checked', 'decisions', 'attempts', 'n', 'warmup', 'hours', 'minutes',
  'seconds', 'ms', 'wait', 'globalWait', 'timeout', 'timeoutMs', 'memoryMb', 'perMinute', 'limit',
  'running', 'suspended', 'stopped',
]);

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;
const NARROW_NBSP = '\u202f';

/**
 * A plain decimal string written the French way, as `Intl.NumberFormat('fr-FR')` writes it (thousands
 * grouped by U+202F from four digits, decimal comma), keeping every digit of the string (trailing
 * zeros included: `1.500` → `1,500`). Anything else is returned as it is.
 */
export function frenchNumber(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac] = m as unknown as [string, string, string, string | undefined];
  const grouped = int.length > 3 ? int.replace(/\B(?=(\d{3})+$)/g, NARROW_NBSP) : int;
  return `${sign}${grouped}${frac === undefined ? '' : `,${frac}`}`;
}

/** A parameter's text in a language: a quantity in French gets the French decimal comma (see `NUMBER_PARAMS`). */
function paramText(locale: Locale, name: string, v: string | number): string {
  const s = String(v);
  return locale === 'fr' && NUMBER_PARAMS.has(name) && PLAIN_DECIMAL.test(s) ? frenchNumber(s) : s;
}

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
    return v === undefined || v === null ? whole : paramText(locale, name, v);
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
