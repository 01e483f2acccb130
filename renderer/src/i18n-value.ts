/**
 * A code value the core sends (a state, a status, an action, a close reason) shown in the current
 * language: the catalogue's `<prefix>.<value>` when it exists, the value itself otherwise (a value
 * added to the core later still shows, untranslated, rather than as a key). The value on the wire
 * is unchanged.
 */
import { hasKey, type MessageKey } from '@shared/i18n';
import { t } from './i18n';

export function tv(prefix: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const key = `${prefix}.${value}`;
  return hasKey(key) ? t(key as MessageKey) : value;
}
