import { z } from 'zod';

/** A rolling-window limit: at most `requests` accepted in any `windowMs` milliseconds. */
export const rateLimitSchema = z.object({
  requests: z.number().int().positive(),
  windowMs: z.number().int().positive(),
});

export type RateLimit = z.infer<typeof rateLimitSchema>;

/** Decides, request by request, whether the limit lets it through. */
export interface RateLimiter {
  /**
   * Counts a request made at `nowMs` if the window has room, and answers `undefined`; otherwise
   * answers how many milliseconds until the oldest counted request leaves the window.
   */
  take(nowMs: number): number | undefined;
  reset(): void;
}

/**
 * Spotify counts calls over a rolling 30-second window (DESIGN.md, "Spotify, as it is today").
 * Refused requests are not counted, so a client that waits as told gets through.
 */
export const rollingWindowLimiter = ({ requests, windowMs }: RateLimit): RateLimiter => {
  // Timestamps of accepted requests, oldest first; never longer than `requests`.
  let accepted: number[] = [];
  return {
    take(nowMs) {
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
