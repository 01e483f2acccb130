import { z } from 'zod';
import { Id, method, NoInput, Ok } from './define';

/** Strategies: TypeScript code against the Strategy API (shared/strategy-api.ts), every save a version. */

/** Longest strategy source accepted (characters); the validator enforces the same bound. */
export const MAX_STRATEGY_CODE = 200_000;

const Name = z.string().trim().min(1, 'a name is required').max(80, 'a name is at most 80 characters');
const Code = z.string().max(MAX_STRATEGY_CODE, `the code is at most ${MAX_STRATEGY_CODE} characters`);
const Description = z.string().max(2000, 'a description is at most 2000 characters');
/** A timeframe hint such as "1m", "15m", "1h", "4h", "1d", "1w". */
const Timeframe = z.string().regex(/^[1-9][0-9]{0,2}[mhdwM]$/, 'a timeframe looks like 1m, 15m, 1h, 4h, 1d or 1w');
const TemplateId = z.string().regex(/^[a-z0-9-]{1,60}$/, 'a template id is lowercase letters, digits and dashes');

/** One problem in the code; line and column are 1-based. */
export const StrategyDiagnostic = z.object({
  line: z.number().int(),
  column: z.number().int(),
  message: z.string(),
  /** Our own rule's message by key (`coreLast.check.*`), worded by the renderer; TypeScript's messages have none. */
  key: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  endLine: z.number().int(),
  endColumn: z.number().int(),
});

export const StrategyParamSpec = z.object({
  default: z.number(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().optional(),
  label: z.string().optional(),
  description: z.string().optional(),
});
export const StrategyParams = z.record(z.string(), StrategyParamSpec);

export const CheckResult = z.object({
  ok: z.boolean(),
  diagnostics: z.array(StrategyDiagnostic),
  params: StrategyParams,
  warmup: z.number().int(),
});

/** A strategy as listed (no code). */
export const StrategySummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  timeframe: z.string().nullable(),
  /** The latest saved version (1 = as created). */
  version: z.number().int(),
  params: StrategyParams,
  warmup: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A strategy with the code of its current version. */
export const StrategyDetail = StrategySummary.extend({ code: z.string() });

export const StrategyVersion = z.object({
  version: z.number().int(),
  params: StrategyParams,
  warmup: z.number().int(),
  /** Characters of code (the code itself: `strategies.get` with `version`). */
  size: z.number().int(),
  createdAt: z.string(),
});

export const StrategyTemplate = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  code: z.string(),
  params: StrategyParams,
});

export const strategyMethods = {
  'strategies.list': method({ input: NoInput, output: z.array(StrategySummary), auth: 'profile', description: "The profile's strategies, by name." }),
  'strategies.get': method({
    input: z.object({ id: Id, version: z.number().int().min(1).optional() }).strict(),
    output: StrategyDetail,
    auth: 'profile',
    description: 'A strategy with its code: the current version, or `version` (then `version` and `params` are that version\'s).',
  }),
  'strategies.create': method({
    input: z.object({ name: Name, template: TemplateId.optional(), code: Code.optional(), description: Description.optional(), timeframe: Timeframe.nullable().optional() }).strict(),
    output: StrategyDetail,
    auth: 'profile',
    description: 'Create a strategy (version 1) from `code`, else from `template` (default: the base template). Refused with the diagnostics while the code does not compile.',
  }),
  'strategies.update': method({
    input: z.object({ id: Id, name: Name.optional(), code: Code.optional(), description: Description.optional(), timeframe: Timeframe.nullable().optional() }).strict(),
    output: StrategyDetail,
    auth: 'profile',
    description:
      'Rename, describe, or save new code. New code is checked and transpiled; while it does not compile the call is refused (`invalid_input`, `details.diagnostics`) and nothing is saved. Changed code makes a new version.',
  }),
  'strategies.duplicate': method({
    input: z.object({ id: Id, name: Name.optional() }).strict(),
    output: StrategyDetail,
    auth: 'profile',
    description: 'A copy of the current version as a new strategy (version 1), named "<name> (copy)" unless `name` is given.',
  }),
  'strategies.delete': method({ input: z.object({ id: Id }).strict(), output: Ok, auth: 'profile', description: 'Delete a strategy and its versions.' }),
  'strategies.check': method({
    input: z.object({ code: Code }).strict(),
    output: CheckResult,
    auth: 'profile',
    description: 'Type-check code against the Strategy API and the strategy rules without saving: diagnostics with line and column, and the declared params.',
  }),
  'strategies.templates': method({ input: NoInput, output: z.array(StrategyTemplate), auth: 'profile', description: 'The templates a strategy can start from.' }),
  'strategies.versions': method({ input: z.object({ id: Id }).strict(), output: z.array(StrategyVersion), auth: 'profile', description: "A strategy's saved versions, newest first." }),
} as const;

export const strategyEvents = {
  /** A strategy was created, changed or deleted (another window refreshes its list). */
  'strategies.changed': z.object({ id: z.string(), action: z.enum(['created', 'updated', 'deleted']) }),
} as const;
