import * as z from 'zod';
import { InvalidRecordError, type ChartflowError } from './errors.js';

/** An error class the parse helper can throw: built from a message, like every chartflow error. */
export type ParseErrorClass = new (message: string, options?: ErrorOptions) => ChartflowError;

/**
 * Parses a payload from outside (an event, a lake object, an answer, an option) with its schema,
 * or throws naming what was parsed and, in zod's own words (`z.prettifyError`), every issue and
 * where it is: `manifest raw/…/manifest.json: ✖ Invalid input: expected string → at runId`.
 *
 * @param what - what the payload is and where it came from, as the error should name it
 * @param errorClass - the error to throw; {@link InvalidRecordError} (permanent) by default
 * @throws the given error class when the payload does not match
 */
export const parseOrThrow = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  errorClass: ParseErrorClass = InvalidRecordError,
): z.output<S> => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new errorClass(`${what}: ${issuesOf(parsed.error)}`, { cause: parsed.error });
};

/** zod's wording of a failed parse, on one line so that a log line or a CLI error stays whole. */
export const issuesOf = (error: z.ZodError): string =>
  z
    .prettifyError(error)
    .replace(/\n\s*→ /g, ' → ')
    .replace(/\n/g, '; ');

/**
 * Parses JSON text, then the value with its schema, throwing {@link parseOrThrow}'s error (or, for
 * text that is not JSON, the same class naming `what`).
 */
export const parseJsonOrThrow = <S extends z.ZodType>(
  schema: S,
  text: string,
  what: string,
  errorClass: ParseErrorClass = InvalidRecordError,
): z.output<S> => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new errorClass(`${what}: not JSON (${(error as Error).message})`, { cause: error });
  }
  return parseOrThrow(schema, value, what, errorClass);
};
