/**
 * Wording what the core sent, in a language: an error (its key and params, the English `message` for
 * a key this build lacks) and the message for one input field. Pure, so the renderer's `errorMessage`
 * and `ApiError.fieldMessage` and their tests share it.
 */
import { hasKey, translate, type Locale, type Params } from './index';

export interface CoreError {
  code?: string;
  message: string;
  key?: string | null;
  params?: Params | null;
  details?: unknown;
}

export interface WireIssue {
  path: string;
  message: string;
  key?: string;
  params?: Params;
}

/** The error in the language: its key's wording, else the core's English message, else the code's generic sentence. */
export function wordError(locale: Locale, e: CoreError): string {
  if (e.key && hasKey(e.key)) return translate(locale, e.key, e.params ?? undefined);
  if (e.message) return e.message;
  return e.code && hasKey(`errors.code.${e.code}`) ? translate(locale, `errors.code.${e.code}`) : '';
}

/**
 * The message for one input field, when the core named it: the issue's own key, or, for an issue
 * without one (a core check naming the field), the whole error's wording.
 */
export function wordField(locale: Locale, e: CoreError, field: string): string | undefined {
  const d = e.details as { issues?: WireIssue[]; field?: string } | undefined;
  if (d?.field === field) return wordError(locale, e);
  const issue = d?.issues?.find((i) => i.path === field);
  if (!issue) return undefined;
  if (issue.key && hasKey(issue.key)) return translate(locale, issue.key, issue.params);
  return e.key && hasKey(e.key) ? wordError(locale, e) : issue.message;
}
