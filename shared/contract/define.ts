import { z } from 'zod';

/**
 * How a contract method is declared. `auth: 'profile'` methods need a logged-in session; the core's
 * dispatch checks it before the handler runs, and hands the handler the session's profile.
 */
export type Auth = 'none' | 'profile';
export interface MethodDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, A extends Auth = Auth> {
  input: I;
  output: O;
  auth: A;
  description: string;
}

export function method<I extends z.ZodType, O extends z.ZodType, A extends Auth>(def: MethodDef<I, O, A>): MethodDef<I, O, A> {
  return def;
}

/** Methods without parameters accept `{}` or nothing at all. */
export const NoInput = z.object({}).strict().optional();
export const Ok = z.object({ ok: z.literal(true) });

/** A decimal amount on the wire: a string such as "0.00123" (never a float). */
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number as a string, e.g. "0.001"');
/** An id of a database row (uuid). */
export const Id = z.string().uuid();
