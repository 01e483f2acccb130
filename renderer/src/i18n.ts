/**
 * The renderer's side of shared/i18n: the current language (reactive), `t` for messages, and
 * formatting of numbers, amounts and dates for that language. Templates use `$t(...)`, `$n(...)`,
 * `$d(...)`; scripts import `t`, `n`, `d` from here. The language is the profile's choice
 * (`settings.language`), or the system's when it chose none; before login, the last one used here.
 */
import { ref, type App } from 'vue';
import { hasKey, pickLocale, translate, type Locale, type MessageKey, type Params } from '@shared/i18n';

const LOCALE_KEY = 'aristobot.locale';

export function systemLocale(): Locale {
  return pickLocale(typeof navigator === 'undefined' ? undefined : navigator.language);
}

export const locale = ref<Locale>(pickLocale(globalThis.localStorage?.getItem(LOCALE_KEY) ?? systemLocale()));

export function setLocale(l: Locale): void {
  locale.value = l;
  document.documentElement.lang = l;
  localStorage.setItem(LOCALE_KEY, l); // remembered for the login screen only
}
document.documentElement.lang = locale.value;

/** The message for a key in the current language (reactive: re-renders on a language switch). */
export function t(key: MessageKey, params?: Params): string {
  return translate(locale.value, key, params);
}

const tag = (l: Locale) => (l === 'fr' ? 'fr-FR' : 'en-US');
const numberFormats = new Map<string, Intl.NumberFormat>();

/**
 * A number or a decimal string (amounts are exact decimal strings: Intl formats the string itself,
 * so no digit is lost to floating point).
 */
export function n(value: number | string | null | undefined, opts: Intl.NumberFormatOptions = { maximumFractionDigits: 20 }): string {
  if (value === null || value === undefined || value === '') return '—';
  const key = locale.value + JSON.stringify(opts);
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(tag(locale.value), opts)));
  if (typeof value === 'string' && Number.isNaN(Number(value))) return value;
  return f.format(value as number | `${number}`);
}

/** An amount with its currency code after it (crypto codes are not ISO currencies). */
export function money(value: number | string | null | undefined, currency: string, opts?: Intl.NumberFormatOptions): string {
  return `${n(value, opts)} ${currency}`;
}

/** A percentage given in percent (12.5 → "12.5 %" in French, "12.5%" in English). */
export function pct(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return n(value / 100, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A date (and time) in the current language. `utc` shows it in UTC. */
export function d(value: number | string | Date, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' }, utc = false): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(tag(locale.value), utc ? { ...opts, timeZone: 'UTC' } : opts).format(date);
}

/**
 * Text the core produced (an error, a reason, a notification), worded here: the core sends a
 * catalogue key and parameters, and its English `message` for scripts and logs; the renderer shows
 * the key's message in the current language, and the core's own words only for a key it lacks.
 */
export type CoreText = { key?: string | null; params?: Params | Record<string, unknown> | null; message?: string | null };
export function coreText(x: CoreText | string | null | undefined): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'string') return hasKey(x) ? translate(locale.value, x) : x;
  if (x.key && hasKey(x.key)) return translate(locale.value, x.key, (x.params ?? undefined) as Params | undefined);
  return x.message ?? x.key ?? '';
}

export const i18n = {
  install(app: App) {
    app.config.globalProperties.$t = t;
    app.config.globalProperties.$n = n;
    app.config.globalProperties.$d = d;
  },
};

declare module 'vue' {
  interface ComponentCustomProperties {
    $t: typeof t;
    $n: typeof n;
    $d: typeof d;
  }
}
