import pThrottle from 'p-throttle';
import * as z from 'zod';

/** At most `requests` calls in any window of `windowMs` (a rolling window, as Spotify counts). */
export interface RateLimit {
  readonly requests: number;
  readonly windowMs: number;
}

/** `"60/30"`: 60 requests per rolling 30 seconds, the form the environment gives it in. */
export const rateLimitSetting = z
  .string()
  .trim()
  .regex(/^\d+\/\d+(\.\d+)?$/, 'must be requests/seconds, for example 60/30')
  .transform((value): RateLimit => {
    const [requests, seconds] = value.split('/').map(Number) as [number, number];
    return { requests, windowMs: Math.round(seconds * 1000) };
  })
  .refine(
    (limit) => limit.requests > 0 && limit.windowMs > 0,
    'must allow at least one request in a positive window',
  );

/**
 * One provider's limiter, shared by every concurrent lookup of a process: a call waits until the
 * rolling window has room. p-throttle's strict mode checks every window, not fixed buckets, so a
 * burst at a bucket's edge cannot double the rate.
 */
export class RateLimiter {
  readonly #throttled: <T>(work: () => Promise<T>) => Promise<T>;
  #waiting = 0;

  constructor(readonly limit: RateLimit) {
    const throttle = pThrottle({ limit: limit.requests, interval: limit.windowMs, strict: true });
    this.#throttled = throttle(<T>(work: () => Promise<T>) => work()) as <T>(
      work: () => Promise<T>,
    ) => Promise<T>;
  }

  /** Runs the work when the window has room. */
  async schedule<T>(work: () => Promise<T>): Promise<T> {
    this.#waiting += 1;
    // p-throttle runs every call it is given (it rejects only on an abort signal, which is not used).
    return this.#throttled(async () => {
      this.#waiting -= 1;
      return work();
    });
  }

  /** Calls waiting for room now. */
  get waiting(): number {
    return this.#waiting;
  }
}
