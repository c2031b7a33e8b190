import type { AsyncRetryPolicy } from '../topology.js';

/**
 * The one local time scale: local milliseconds per declared (AWS) millisecond, for the pipeline's
 * own waits. The topology's numbers are sized for Lambda functions of minutes and dbt builds on
 * Fargate (a visibility timeout of 30 minutes, a busy warehouse handing its message back for a
 * minute); on one machine dbt builds in seconds, so those waits shrink tenfold. A tenth keeps the
 * track queue's visibility timeout (3 minutes locally) above the longest local batch, 200 single
 * lookups of a Development Mode app at 90 per 30 s (about 70 s). Waits a provider dictates
 * (Retry-After) are never scaled: its rate limiter runs in real time.
 */
export const localTimeScale = 0.1;

/** A declared duration in seconds, as local milliseconds. */
export const localMs = (seconds: number, timeScale = localTimeScale): number =>
  Math.round(seconds * 1000 * timeScale);

/** An asynchronous retry policy with its delays on the local time scale. */
export const scaledRetry = (policy: AsyncRetryPolicy, timeScale = localTimeScale): AsyncRetryPolicy => ({
  maxAttempts: policy.maxAttempts,
  delayMs: (attempt) => Math.round(policy.delayMs(attempt) * timeScale),
});
