import type { Clock } from '../ports/clock.js';
import { JsonClient, type RetryPolicy } from '../http/json-client.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { RequestCounter } from '../http/request-counter.js';
import type { CircuitBreakers } from '../http/circuit-breaker.js';
import { contentSchema } from './schemas.js';

/**
 * ReccoBeats silently drops the ids of a call beyond its cap; 40 is what it reliably honours
 * (docs/architecture.md, "Spotify, as it is today").
 */
export const reccobeatsLimits = { idsPerCall: 40 } as const;

export interface ReccoBeatsClientOptions {
  /** The API base, `https://api.reccobeats.com/v1`, or the sandbox's. */
  readonly apiUrl: string;
  readonly counter: RequestCounter;
  readonly clock: Clock;
  readonly retry?: RetryPolicy;
  readonly limiter?: RateLimiter;
  /** The process's circuit breakers, one per endpoint, shared by every client of the process. */
  readonly breakers?: CircuitBreakers;
  /** Send the chart day as `x-chartflow-as-of` (the sandbox only). */
  readonly sendAsOf?: boolean;
}

/**
 * ReccoBeats, a keyless service that accepts Spotify ids: tracks (popularity, ISRC, duration,
 * artists) and audio features. Answers are returned as received; callers validate each item and
 * match it back by the Spotify id in its `href`, never by position.
 */
export class ReccoBeatsClient {
  readonly #http: JsonClient;

  constructor(private readonly options: ReccoBeatsClientOptions) {
    this.#http = new JsonClient(
      'reccobeats',
      options.counter,
      options.clock,
      options.retry,
      options.limiter,
      options.breakers,
    );
  }

  /** Up to 40 tracks by Spotify id; unknown ids are absent from the answer. */
  async tracks(ids: readonly string[], asOf?: string): Promise<unknown[]> {
    return this.#several('/track', ids, 'GET /v1/track', asOf);
  }

  /** Up to 40 tracks' audio features by Spotify id; unknown ids are absent. */
  async audioFeatures(ids: readonly string[], asOf?: string): Promise<unknown[]> {
    return this.#several('/audio-features', ids, 'GET /v1/audio-features', asOf);
  }

  async #several(
    path: string,
    ids: readonly string[],
    what: string,
    asOf: string | undefined,
  ): Promise<unknown[]> {
    if (ids.length === 0 || ids.length > reccobeatsLimits.idsPerCall) {
      throw new RangeError(
        `ReccoBeats takes 1 to ${reccobeatsLimits.idsPerCall} ids a call, not ${ids.length}`,
      );
    }
    const answer = await this.#http.request({
      url: `${this.options.apiUrl.replace(/\/+$/, '')}${path}?ids=${ids.map(encodeURIComponent).join(',')}`,
      what,
      ids,
      schema: contentSchema,
      headers: this.options.sendAsOf && asOf ? { 'x-chartflow-as-of': asOf } : {},
    });
    return answer.content;
  }
}
