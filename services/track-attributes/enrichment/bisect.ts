import {
  CircuitOpenError,
  InvalidRecordError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
} from '../../../shared/errors.js';

/** A provider's failure, as opposed to a bug or the lake failing (which must fail the invocation). */
export const isProviderFailure = (error: unknown): error is Error =>
  error instanceof ProviderError ||
  error instanceof RateLimitedError ||
  error instanceof ProviderRejectedError ||
  error instanceof InvalidRecordError;

/**
 * Whether an error says something about the endpoint rather than the ids: a rate limit, an open
 * circuit breaker, or an endpoint closed to this app (401/403/404). Splitting the batch would only
 * repeat it, id by id.
 */
export const isEndpointError = (error: unknown): boolean =>
  error instanceof RateLimitedError ||
  error instanceof CircuitOpenError ||
  (error instanceof ProviderRejectedError && [401, 403, 404].includes(error.status));

/**
 * Calls `fetch` on the whole batch; if it fails, splits the batch in halves and tries each, so
 * that one id that breaks every call it is part of (a poison id) fails alone, and its neighbours
 * succeed. An endpoint error is not a bad id: it stops the search and goes back to the caller;
 * nor is an error of our own (a bug, the lake failing), which goes back at once, unsplit, to fail
 * the invocation rather than be written down as the provider's failure of an id.
 */
export const bisectBatch = async <T>(
  ids: readonly string[],
  fetch: (ids: readonly string[]) => Promise<T>,
): Promise<{ answers: { ids: readonly string[]; answer: T }[]; failures: Map<string, string> }> => {
  const answers: { ids: readonly string[]; answer: T }[] = [];
  const failures = new Map<string, string>();
  const attempt = async (batch: readonly string[]): Promise<void> => {
    try {
      answers.push({ ids: batch, answer: await fetch(batch) });
    } catch (error) {
      if (isEndpointError(error) || !isProviderFailure(error)) throw error;
      if (batch.length === 1) {
        failures.set(batch[0]!, (error as Error).message);
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await attempt(batch.slice(0, middle));
      await attempt(batch.slice(middle));
    }
  };
  if (ids.length > 0) await attempt(ids);
  return { answers, failures };
};
