/**
 * Maps a position in a strategy's transpiled JavaScript back to its TypeScript source, through the
 * source map transpileStrategy() inlines at the end of the JavaScript. Without a map the
 * JavaScript position is returned as is.
 */

/** The text the sandbox puts before the strategy's first line (see sandbox.ts). */
export const WRAP_PREFIX = 'globalThis.__aristobot_define = function (exports, require, module) {';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INLINE = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/;

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const d = B64.indexOf(ch);
    if (d < 0) return out;
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Per generated line: [generatedColumn, sourceLine, sourceColumn] segments (all 0-based). */
function decodeMappings(mappings: string): [number, number, number][][] {
  const lines: [number, number, number][][] = [];
  let srcLine = 0;
  let srcCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs: [number, number, number][] = [];
    let genCol = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const v = decodeVlq(seg);
      genCol += v[0] ?? 0;
      if (v.length >= 4) {
        srcLine += v[2] ?? 0;
        srcCol += v[3] ?? 0;
        segs.push([genCol, srcLine, srcCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

/**
 * `line`/`column` as V8 reports them in the wrapped script (1-based; line 1 carries WRAP_PREFIX).
 * Returns the 1-based position in the original source.
 */
export function mapToSource(js: string, line: number, column: number): { line: number; column: number } {
  const col0 = Math.max(0, column - 1 - (line === 1 ? WRAP_PREFIX.length : 0));
  const m = INLINE.exec(js);
  if (!m?.[1]) return { line, column: col0 + 1 };
  let map: { mappings?: string };
  try {
    map = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')) as { mappings?: string };
  } catch {
    return { line, column: col0 + 1 };
  }
  const lines = decodeMappings(map.mappings ?? '');
  const segs = lines[line - 1];
  if (!segs || segs.length === 0) {
    // A generated line with no mapping (helper code): the nearest mapped line above it.
    for (let l = line - 2; l >= 0; l--) {
      const s = lines[l];
      const last = s?.[s.length - 1];
      if (last) return { line: last[1] + 1, column: last[2] + 1 };
    }
    return { line, column: col0 + 1 };
  }
  let best = segs[0]!;
  for (const s of segs) {
    if (s[0] <= col0) best = s;
    else break;
  }
  return { line: best[1] + 1, column: best[2] + 1 + Math.max(0, col0 - best[0]) };
}
