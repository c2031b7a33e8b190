/** The providers the sandbox plays: Spotify (accounts and Web API) and ReccoBeats. */
export const sandboxProviders = ['spotify', 'reccobeats'] as const;

export type SandboxProvider = (typeof sandboxProviders)[number];

/** The endpoints the sandbox serves, as its statistics and its faults name them. */
export const sandboxEndpoints = [
  'token',
  'playlistItems',
  'tracks',
  'track',
  'audioFeatures',
  'reccobeatsTracks',
  'reccobeatsAudioFeatures',
] as const;

export type SandboxEndpoint = (typeof sandboxEndpoints)[number];

/** Which provider serves each endpoint. */
export const endpointProvider: Readonly<Record<SandboxEndpoint, SandboxProvider>> = Object.freeze({
  token: 'spotify',
  playlistItems: 'spotify',
  tracks: 'spotify',
  track: 'spotify',
  audioFeatures: 'spotify',
  reccobeatsTracks: 'reccobeats',
  reccobeatsAudioFeatures: 'reccobeats',
});

/** What one provider has answered, refusals and injected faults included. */
export interface ProviderStats {
  /** Requests received by the provider's endpoints, whatever their answer. */
  readonly requests: number;
  /** 429s from the provider's rolling-window rate limit (short Retry-After). */
  readonly rateLimited: number;
  /** 429s from a `quotaExceeded` fault (long Retry-After, `"reason": "QUOTA_EXCEEDED"`). */
  readonly quotaExceeded: number;
  /** 5xx answers injected by `serverErrors` or `failTrackLookups`. */
  readonly serverErrors: number;
  /** 200s whose body was cut short by `malformedJson`. */
  readonly malformedJson: number;
  /** Answers held back by `slow`. */
  readonly slowed: number;
  /** Refusals of the access mode: development mode's closed endpoints and unreadable playlists. */
  readonly restricted: number;
}

/** A copy of the counters at one moment. */
export interface SandboxStatsSnapshot {
  /** Requests received per endpoint, whatever their answer (refusals and errors included). */
  readonly requests: Readonly<Record<SandboxEndpoint, number>>;
  /** All requests received, over every endpoint of both providers (the token endpoint included). */
  readonly total: number;
  /** Requests refused by a rolling-window rate limit (either provider's); quota 429s are not in it. */
  readonly rateLimited: number;
  /** Requests answered 401 (no, unknown or expired token). */
  readonly unauthorized: number;
  /** The same, per provider, with the injected faults counted. */
  readonly byProvider: Readonly<Record<SandboxProvider, ProviderStats>>;
}

type Counter = Exclude<keyof ProviderStats, 'requests'>;

const zeroRequests = (): Record<SandboxEndpoint, number> =>
  Object.fromEntries(sandboxEndpoints.map((e) => [e, 0])) as Record<SandboxEndpoint, number>;

const zeroCounters = (): Record<SandboxProvider, Record<Counter, number>> =>
  Object.fromEntries(
    sandboxProviders.map((p) => [
      p,
      { rateLimited: 0, quotaExceeded: 0, serverErrors: 0, malformedJson: 0, slowed: 0, restricted: 0 },
    ]),
  ) as Record<SandboxProvider, Record<Counter, number>>;

/** What the sandbox has served, for tests and benchmarks to read. */
export class SandboxStats {
  #requests = zeroRequests();
  #counters = zeroCounters();
  #unauthorized = 0;

  /** Requests received per endpoint (a live view; see `snapshot` for a copy). */
  get requests(): Readonly<Record<SandboxEndpoint, number>> {
    return this.#requests;
  }

  /** All requests received, over every endpoint of both providers. */
  get total(): number {
    return Object.values(this.#requests).reduce((sum, count) => sum + count, 0);
  }

  /** Requests refused by either provider's rolling-window rate limit. */
  get rateLimited(): number {
    return sandboxProviders.reduce((sum, p) => sum + this.#counters[p].rateLimited, 0);
  }

  get unauthorized(): number {
    return this.#unauthorized;
  }

  /** The counters of one provider, copied. */
  provider(provider: SandboxProvider): ProviderStats {
    const requests = sandboxEndpoints
      .filter((e) => endpointProvider[e] === provider)
      .reduce((sum, e) => sum + this.#requests[e], 0);
    return { requests, ...this.#counters[provider] };
  }

  /** The counters, copied. */
  snapshot(): SandboxStatsSnapshot {
    return {
      requests: { ...this.#requests },
      total: this.total,
      rateLimited: this.rateLimited,
      unauthorized: this.#unauthorized,
      byProvider: { spotify: this.provider('spotify'), reccobeats: this.provider('reccobeats') },
    };
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.#requests = zeroRequests();
    this.#counters = zeroCounters();
    this.#unauthorized = 0;
  }

  /** @internal Counted by the server. */
  recordRequest(endpoint: SandboxEndpoint): void {
    this.#requests[endpoint] += 1;
  }

  /** @internal */
  recordRateLimited(provider: SandboxProvider = 'spotify'): void {
    this.#counters[provider].rateLimited += 1;
  }

  /** @internal */
  recordUnauthorized(): void {
    this.#unauthorized += 1;
  }

  /** @internal An answer shaped by a fault or by the access mode. */
  record(provider: SandboxProvider, counter: Exclude<Counter, 'rateLimited'>): void {
    this.#counters[provider][counter] += 1;
  }
}
