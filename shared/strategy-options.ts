/**
 * The compiler options strategy code is checked with — by the core's validator
 * (electron/strategies/validate.ts) and by the editor's own TypeScript worker (Monaco), so both
 * report the same problems. Numbers are TypeScript's enum values (a test pins them to `ts.*`).
 *
 * Strict, but written for strategy authors: no `override` keyword required, and indexing a column
 * gives a `number` (no `noUncheckedIndexedAccess`). ES2022 library only: no DOM, no Node types.
 */
export const STRATEGY_COMPILER_OPTIONS = {
  /** ts.ScriptTarget.ES2022 */
  target: 9,
  /** ts.ModuleKind.ESNext */
  module: 99,
  /** ts.ModuleResolutionKind.Bundler */
  moduleResolution: 100,
  lib: ['es2022'] as string[],
  types: [] as string[],
  strict: true,
  noImplicitOverride: false,
  noUncheckedIndexedAccess: false,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  isolatedModules: true,
  useDefineForClassFields: false,
  allowJs: false,
  noEmit: true,
} as const;

/** The file name the strategy is checked as (in the editor and the core, so messages agree). */
export const STRATEGY_FILE_NAME = 'strategy.ts';
/** The file the API declarations live in (the `'aristobot'` module). */
export const STRATEGY_API_FILE_NAME = 'aristobot.d.ts';
