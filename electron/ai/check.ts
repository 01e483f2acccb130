import type { StrategyChecker } from '../strategies/checker';
import type { CheckResult } from './prompt';

/**
 * The check the assistant runs on generated code: THE strategy validator (electron/strategies/
 * validate.ts, the one behind `strategies.check` and Save, in the strategies' checker worker),
 * reduced to what the panel shows.
 */
export function strategyCodeCheck(checker: Pick<StrategyChecker, 'check'>): (code: string) => Promise<CheckResult> {
  return async (code) => {
    const r = await checker.check(code);
    return { ok: r.ok, diagnostics: r.diagnostics.map(({ line, column, message }) => ({ line, column, message })) };
  };
}
