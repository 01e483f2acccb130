/**
 * Candle columns on SharedArrayBuffers: what the kernel hands to its isolate without a copy (see
 * sandbox.ts). No isolated-vm here, so loaders can use it.
 */
import type { Columns } from './types';

export const COLUMN_KEYS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/**
 * Columns on ONE SharedArrayBuffer (six views, 48 bytes a candle). The kernel hands shared
 * columns to the isolate without copying them (the strategy still gets its own copies of the
 * columns it reads), so a loader that fills shared columns directly, or a caller running many
 * backtests on one series (the optimiser, the lookahead check, the benches), copies them once.
 * Columns already on SharedArrayBuffers are returned as they are.
 */
export function shareColumns(c: Columns): Columns {
  if (COLUMN_KEYS.every((k) => c[k].buffer instanceof SharedArrayBuffer)) return c;
  const n = c.close.length;
  const sab = new SharedArrayBuffer(n * 8 * COLUMN_KEYS.length);
  const out = {} as Columns;
  COLUMN_KEYS.forEach((k, i) => {
    out[k] = new Float64Array(sab, i * n * 8, n);
    out[k].set(c[k]);
  });
  return out;
}

/** Empty columns of n candles on one SharedArrayBuffer, for loaders to fill in place. */
export function sharedColumns(n: number): Columns {
  const sab = new SharedArrayBuffer(n * 8 * COLUMN_KEYS.length);
  const out = {} as Columns;
  COLUMN_KEYS.forEach((k, i) => (out[k] = new Float64Array(sab, i * n * 8, n)));
  return out;
}

/** The bytes the isolate is charged for these columns (sandbox.ts passes each distinct shared buffer once; plain columns are copied). */
export function sharedBytes(c: Columns): number {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  for (const k of COLUMN_KEYS) {
    const buf = c[k].buffer;
    if (buf instanceof SharedArrayBuffer) {
      if (!seen.has(buf)) bytes += buf.byteLength;
      seen.add(buf);
    } else bytes += c[k].byteLength;
  }
  return bytes;
}
