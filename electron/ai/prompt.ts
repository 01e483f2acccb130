import { STRATEGY_API_DTS } from '../../shared/strategy-api';
import type { Params } from '../../shared/i18n';
import type { ChatMessage } from './client';

export type AiMode = 'generate' | 'modify' | 'explain';
export interface Diagnostic {
  line: number;
  column: number;
  message: string;
  /** Our own message by key (the renderer words it); TypeScript's have none. */
  key?: string;
  params?: Params;
}
export interface CheckResult {
  ok: boolean;
  diagnostics: Diagnostic[];
}

const RULES = `Rules for every strategy you write:
- It is TypeScript. It imports only from 'aristobot' (e.g. \`import { Strategy, ta } from 'aristobot';\`); no other import, no require, no fetch, no Date.now(), no Math.random().
- It default-exports one class extending Strategy: \`export default class MyStrategy extends Strategy { … }\`.
- It implements shouldLong() and shouldShort() (both return boolean); shouldExit(), calculatePositionSize(), calculateStopLoss() and calculateTakeProfit() are optional.
- Declare tunable numbers in \`static params = { name: { default, min, max, step, label } }\` and read them as \`this.params.name\`.
- Compute indicators once in init() over whole columns (e.g. \`this.rsi = ta.rsi(this.close, this.params.period)\`), store them in fields, and in the decisions read them at index \`this.i\`. Never recompute an indicator inside a decision.
- Values are NaN during warm-up; a comparison with NaN is false, which is the right answer there.
- Do not write the \`override\` keyword.`;

/** The system prompt: who the assistant is, the API declarations, the rules and the answer format. */
export function systemPrompt(mode: AiMode): string {
  const answer =
    mode === 'explain'
      ? 'Explain the strategy the user gives you in plain words for a trader: what it computes, when it goes long, short or exits, how it sizes positions and sets stops, and its parameters. Point out bugs or risks you see. Do not rewrite the code unless asked.'
      : 'Answer with ONE ```ts code block containing the whole strategy module (not a fragment), followed by at most a few sentences explaining it. Never answer with more than one code block.';
  return `You are the strategy assistant of Aristobot3, a crypto-trading bot. Users write trading strategies in TypeScript against the 'aristobot' module declared below. The same strategy runs in backtests and live trading.

${RULES}

The 'aristobot' module (the complete API; nothing else is available):
\`\`\`ts
${STRATEGY_API_DTS}
\`\`\`

${answer}`;
}

/** The conversation for one question. */
export function buildMessages(mode: AiMode, prompt: string, code?: string): ChatMessage[] {
  let user: string;
  if (mode === 'generate') user = `Write a strategy that does this:\n${prompt}`;
  else if (mode === 'modify') user = `Here is my current strategy:\n\`\`\`ts\n${code ?? ''}\n\`\`\`\n\nChange it as follows, and answer with the whole modified strategy:\n${prompt}`;
  else user = `Explain this strategy:\n\`\`\`ts\n${code ?? ''}\n\`\`\`${prompt ? `\n\nIn particular: ${prompt}` : ''}`;
  return [
    { role: 'system', content: systemPrompt(mode) },
    { role: 'user', content: user },
  ];
}

/** The follow-up that asks the model to fix its code, with the checker's diagnostics. */
export function repairMessage(check: CheckResult | null): ChatMessage {
  if (!check) return { role: 'user', content: 'Your answer has no ```ts code block. Answer again with the whole strategy in ONE ```ts code block.' };
  const list = check.diagnostics
    .slice(0, 30)
    .map((d) => `- line ${d.line}, column ${d.column}: ${d.message}`)
    .join('\n');
  return {
    role: 'user',
    content: `The code does not pass the checker:\n${list}\n\nFix these problems and answer with the whole corrected strategy in ONE \`\`\`ts code block.`,
  };
}

/**
 * The code of an answer: the first fenced block tagged ts/typescript (or untagged, or js), so an
 * explanation's extra snippets in other languages are ignored. Null when there is none.
 */
export function extractCode(answer: string): string | null {
  const re = /```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g;
  let fallback: string | null = null;
  for (let m = re.exec(answer); m; m = re.exec(answer)) {
    const lang = (m[1] ?? '').toLowerCase();
    const body = m[2]!.replace(/\s+$/, '') + '\n';
    if (lang === 'ts' || lang === 'typescript' || lang === 'tsx') return body;
    if (fallback === null && (lang === '' || lang === 'js' || lang === 'javascript')) fallback = body;
  }
  if (fallback !== null) return fallback;
  // An unterminated block at the end (the model stopped early): take what is there.
  const open = /```[ \t]*(?:ts|typescript)[^\n]*\n([\s\S]+)$/i.exec(answer);
  return open ? open[1]!.replace(/\s+$/, '') + '\n' : null;
}
