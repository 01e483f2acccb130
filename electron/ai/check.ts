import { checkStrategy } from '../strategies/validate';
import type { CheckResult } from './prompt';

/**
 * The check the assistant runs on generated code: THE strategy validator (electron/strategies/
 * validate.ts, the one behind `strategies.check` and Save), reduced to what the panel shows.
 */
export async function checkStrategyCode(code: string): Promise<CheckResult> {
  const r = checkStrategy(code);
  return { ok: r.ok, diagnostics: r.diagnostics.map(({ line, column, message }) => ({ line, column, message })) };
}
