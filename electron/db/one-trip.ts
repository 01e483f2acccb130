import pg from 'pg';

/**
 * A parameterised statement turned into text with its values as SQL literals, so that it can go
 * in ONE simple-protocol message with the statements around it (`BEGIN; …; <statement>; COMMIT`):
 * one round trip to the server instead of one per statement (node-postgres sends a client's
 * queries one after the other, each waiting for the previous answer). The decisions journal uses
 * it on the bot's signal path (electron/bot/journal.ts), where each round trip is latency.
 *
 * Values: null/undefined, finite numbers, booleans, strings, and arrays of those (as PostgreSQL
 * array literals); strings are quoted with pg's `escapeLiteral` (standard_conforming_strings on:
 * the server's default). The text's `$n` must be parameters only (no `$` inside its own string
 * literals or dollar quotes): the statements passed here are the app's own constants.
 */
export type InlineValue = string | number | boolean | null | undefined | readonly (string | number | boolean | null | undefined)[];

function scalar(v: string | number | boolean): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`inlineParams: ${v} is not a finite number`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v;
}

/** A value as a SQL literal (the statement's own cast, e.g. `$1::uuid[]`, types it). */
export function sqlLiteral(v: InlineValue): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) {
    const items = (v as readonly (string | number | boolean | null | undefined)[]).map((x) => (x === null || x === undefined ? 'NULL' : `"${scalar(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`));
    return pg.escapeLiteral(`{${items.join(',')}}`);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return scalar(v);
  return pg.escapeLiteral(v as string);
}

/** `text` with each `$n` replaced by the literal of `values[n - 1]`. */
export function inlineParams(text: string, values: readonly InlineValue[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`inlineParams: no value for $${n}`);
    return sqlLiteral(values[i]);
  });
}
