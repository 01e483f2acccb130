import { z } from 'zod';
import { isMethodName, methods, type MethodName, type MethodOutput, type MethodParsedInput, type Methods } from '../../shared/contract';
import { AppError, errorPayload, type ErrorPayload } from '../../shared/errors';
import { zodIssue, type InputIssue } from './issues';
import type { Logger } from '../log';

/** One connection's session: which profile is logged in, which events it receives. Core-side only. */
export interface Session {
  readonly connectionId: string;
  profile: { id: string; name: string } | null;
  subscriptions: Set<string>;
}

export interface CallContext {
  session: Session;
}
export interface ProfileCallContext extends CallContext {
  profile: { id: string; name: string };
}

type ContextFor<M extends MethodName> = Methods[M]['auth'] extends 'profile' ? ProfileCallContext : CallContext;

/** The core implements one handler per contract method; the type checker refuses a missing one. */
export type Handlers = {
  [M in MethodName]: (input: MethodParsedInput<M>, ctx: ContextFor<M>) => Promise<MethodOutput<M>>;
};

export type CallResult = { result: unknown } | { error: ErrorPayload };

function zodDetails(err: z.ZodError): { issues: InputIssue[] } {
  return { issues: err.issues.map(zodIssue) };
}

/** `invalid_input` for a contract refusal: the first issue in the sentence, every issue in details (each with its key). */
function invalidInput(method: string, details: { issues: InputIssue[] }): ErrorPayload {
  const first = details.issues[0];
  if (!first) return errorPayload('invalid_input', 'errors.api.malformed', { method }, details);
  return errorPayload('invalid_input', 'errors.api.invalidInput', { method, path: first.path, reason: { key: first.key, params: first.params } }, details);
}

/**
 * Transport-free dispatch: validates the input against the contract, checks the session, runs the
 * handler, validates the output, and maps every failure to `{ code, message, details? }`.
 * Unexpected errors are logged with context and surface as `internal` (no stack, no secret).
 */
export class Dispatcher {
  constructor(
    private readonly handlers: Handlers,
    private readonly log: Logger,
  ) {}

  async call(method: string, params: unknown, session: Session): Promise<CallResult> {
    if (typeof method !== 'string' || !isMethodName(method)) {
      return { error: errorPayload('unknown_method', 'errors.api.unknownMethod', { method: String(method).slice(0, 100) }) };
    }
    const def = methods[method];
    const parsed = def.input.safeParse(params ?? undefined);
    if (!parsed.success) {
      return { error: invalidInput(method, zodDetails(parsed.error)) };
    }
    if (def.auth === 'profile' && !session.profile) {
      return { error: errorPayload('unauthenticated', 'errors.api.loginFirst') };
    }
    try {
      const handler = this.handlers[method] as (input: unknown, ctx: ProfileCallContext | CallContext) => Promise<unknown>;
      const ctx = session.profile ? { session, profile: session.profile } : { session };
      const result = await handler(parsed.data, ctx);
      const out = def.output.safeParse(result);
      if (!out.success) {
        this.log.error({ method, issues: zodDetails(out.error).issues }, 'handler returned output outside the contract');
        return { error: errorPayload('internal', 'errors.api.badOutput', { method }) };
      }
      return { result: out.data };
    } catch (e) {
      if (e instanceof AppError) return { error: e.toPayload() };
      if (e instanceof z.ZodError) return { error: invalidInput(method, zodDetails(e)) };
      this.log.error({ method, err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'unexpected error in handler');
      return { error: errorPayload('internal', 'errors.api.internal', { method }) };
    }
  }
}
