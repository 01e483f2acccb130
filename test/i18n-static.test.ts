/**
 * "A string in a page is not translated" fails here: every .vue file of the renderer is read, and
 * - a text node of a template with words in it,
 * - a static `placeholder`, `title`, `aria-label`, `alt` or `label` attribute with words,
 * - a capitalised string literal inside a template expression (`{{ ok ? 'Yes' : 'No' }}`),
 * - a sentence-like string literal in the script (capitalised, two words or more)
 * is reported with its file and line. Words that are the same in every language (brand and product
 * names, currency codes, units) are allowed below. Strings go through `$t` / `t` (renderer/src/i18n.ts)
 * with keys in shared/i18n.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { parse } from 'vue/compiler-sfc';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', 'renderer', 'src');

/** Words that read the same in French and English (names, codes, units). */
const SAME_IN_EVERY_LANGUAGE = [
  'Aristobot3', 'A3', 'USDT', 'USD', 'EUR', 'BTC', 'ETH', 'CSV', 'JSON', 'API', 'URL', 'HTTP', 'HTTPS', 'P&L', 'PnL', 'PING',
  'TradingView', 'Telegram', 'OpenRouter', 'Ollama', 'ngrok', 'cloudflared', 'Binance', 'CCXT', 'ID', 'SL', 'TP', 'OK', 'UTC',
  'Monaco', 'TypeScript', 'PAPER', 'TESTNET', 'LIVE', 'English', 'Français', 'Backtest', 'Webhooks', 'Webhook', 'Heartbeat',
  'RSI', 'EMA', 'SMA', 'MACD', 'ATR', 'VWAP', 'AI', 'IA', 'ms', 's', 'min', 'h', 'd', 'x', 'vs',
];
const allowed = new Set(SAME_IN_EVERY_LANGUAGE);

/** Has words once the allowed ones, numbers and punctuation are taken out. */
function hasWords(text: string): boolean {
  const words = text.match(/[\p{L}][\p{L}&'’-]*/gu) ?? [];
  return words.some((w) => !allowed.has(w) && /\p{L}{2,}/u.test(w));
}

function vueFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? vueFiles(join(dir, e.name)) : e.name.endsWith('.vue') ? [join(dir, e.name)] : [],
  );
}

/** String literals (and the fixed parts of template literals) of a piece of TypeScript. */
function literals(code: string): { text: string; pos: number }[] {
  const out: { text: string; pos: number }[] = [];
  const sf = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    // the argument of $t / t / translate is a key, not a message
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['t', '$t', 'translate'].includes(node.expression.text)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push({ text: node.text, pos: node.getStart() });
    else if (ts.isTemplateExpression(node)) {
      out.push({ text: node.head.text, pos: node.getStart() });
      for (const s of node.templateSpans) out.push({ text: s.literal.text, pos: s.literal.getStart() });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const sentence = (s: string) => /^[\p{Lu}][\p{Ll}'’]+[\s,:]+\S/u.test(s.trim()) && hasWords(s);
const capitalised = (s: string) => /^[\p{Lu}][\p{Ll}]/u.test(s.trim()) && hasWords(s);
const ATTRS = new Set(['placeholder', 'title', 'aria-label', 'alt', 'label']);

interface AstNode {
  type: number;
  content?: string | { content?: string };
  children?: AstNode[];
  props?: { type: number; name: string; value?: { content: string }; exp?: { content?: string }; loc: { start: { line: number } } }[];
  loc: { start: { line: number } };
}

function untranslated(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const { descriptor } = parse(src, { filename: file });
  const where = (line: number) => `${relative(ROOT, file)}:${line}`;
  const found: string[] = [];
  const expr = (code: string | undefined, line: number) => {
    if (!code) return;
    for (const l of literals(`(${code})`)) if (capitalised(l.text)) found.push(`${where(line)} "${l.text}"`);
  };
  const walk = (n: AstNode): void => {
    if (n.type === 2 && typeof n.content === 'string' && hasWords(n.content)) found.push(`${where(n.loc.start.line)} "${n.content.trim()}"`);
    if (n.type === 5 && typeof n.content === 'object') expr(n.content.content, n.loc.start.line);
    for (const p of n.props ?? []) {
      if (p.type === 6 && ATTRS.has(p.name) && p.value && hasWords(p.value.content)) found.push(`${where(p.loc.start.line)} ${p.name}="${p.value.content}"`);
      if (p.type === 7) expr(p.exp?.content, p.loc.start.line);
    }
    for (const c of n.children ?? []) walk(c);
  };
  if (descriptor.template?.ast) walk(descriptor.template.ast as unknown as AstNode);
  for (const block of [descriptor.script, descriptor.scriptSetup]) {
    if (!block) continue;
    const startLine = block.loc.start.line;
    for (const l of literals(block.content)) {
      if (!sentence(l.text)) continue;
      const line = startLine + block.content.slice(0, l.pos).split('\n').length - 1;
      found.push(`${where(line)} "${l.text}"`);
    }
  }
  return found;
}

describe('every string of every page goes through the catalogue', () => {
  const files = vueFiles(ROOT);

  it('finds the pages', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it('the detector catches hard-coded text, attributes, template literals and script sentences', () => {
    const probe = join(ROOT, '..', '..', 'test', 'fixtures', 'i18n-probe.vue');
    expect(untranslated(probe)).toEqual([
      expect.stringContaining('"Place order"'),
      expect.stringContaining('placeholder="Amount to buy"'),
      expect.stringContaining('"Yes"'),
      expect.stringContaining('"The order was refused."'),
    ]);
  });

  for (const file of files) {
    const name = relative(ROOT, file);
    it(`${name} has no untranslated string`, () => {
      expect(untranslated(file)).toEqual([]);
    });
  }

});
