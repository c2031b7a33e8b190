import * as z from 'zod';
import type { RateLimit } from '../../shared/http/rate-limiter.js';

/**
 * The provider's side of a rate limit: the sandbox refuses a request the limit has no room for
 * (429 with Retry-After), where the pipeline's `RateLimiter` (shared/http/rate-limiter.ts) holds
 * its own calls back until there is room. The limit itself is the same concept, `RateLimit`.
 */

/** A `RateLimit` as the sandbox's options give it. */
export const rateLimitSchema = z.object({
  requests: z.number().int().positive(),
  windowMs: z.number().int().positive(),
}) satisfies z.ZodType<RateLimit>;

/** Decides, request by request, whether a rate limit lets it through. */
export interface RollingWindowGate {
  /**
   * Counts a request made at `nowMs` if the window has room, and answers `undefined`; otherwise
   * answers how many milliseconds until the oldest counted request leaves the window.
   */
  admit(nowMs: number): number | undefined;
  reset(): void;
}

/**
 * Spotify counts calls over a rolling 30-second window. Refused requests are not counted, so a
 * client that waits as told gets through. Written by hand: no well-kept library enforces a
 * rolling window on the server side and answers the wait Spotify's Retry-After needs.
 */
export const rollingWindowGate = ({ requests, windowMs }: RateLimit): RollingWindowGate => {
  // Timestamps of accepted requests, oldest first; never longer than `requests`.
  let accepted: number[] = [];
  return {
    admit(nowMs) {
      accepted = accepted.filter((t) => t > nowMs - windowMs);
      if (accepted.length < requests) {
        accepted.push(nowMs);
        return undefined;
      }
      return (accepted[0] as number) + windowMs - nowMs;
    },
    reset() {
      accepted = [];
    },
  };
};
