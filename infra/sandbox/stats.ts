/** The endpoints the sandbox serves, as its statistics name them. */
export const sandboxEndpoints = ['token', 'playlistItems', 'tracks', 'track', 'audioFeatures'] as const;

export type SandboxEndpoint = (typeof sandboxEndpoints)[number];

/** A copy of the counters at one moment. */
export interface SandboxStatsSnapshot {
  /** Requests received per endpoint, whatever their answer (refusals and errors included). */
  readonly requests: Readonly<Record<SandboxEndpoint, number>>;
  /** All requests received, over every endpoint. */
  readonly total: number;
  /** Requests answered 429. */
  readonly rateLimited: number;
  /** Requests answered 401 (no, unknown or expired token). */
  readonly unauthorized: number;
}

const zeroes = (): Record<SandboxEndpoint, number> =>
  Object.fromEntries(sandboxEndpoints.map((e) => [e, 0])) as Record<SandboxEndpoint, number>;

/** What the sandbox has served, for tests and benchmarks to read. */
export class SandboxStats {
  #requests = zeroes();
  #rateLimited = 0;
  #unauthorized = 0;

  /** Requests received per endpoint (a live view; see `snapshot` for a copy). */
  get requests(): Readonly<Record<SandboxEndpoint, number>> {
    return this.#requests;
  }

  get total(): number {
    return Object.values(this.#requests).reduce((sum, count) => sum + count, 0);
  }

  get rateLimited(): number {
    return this.#rateLimited;
  }

  get unauthorized(): number {
    return this.#unauthorized;
  }

  /** The counters, copied. */
  snapshot(): SandboxStatsSnapshot {
    return {
      requests: { ...this.#requests },
      total: this.total,
      rateLimited: this.#rateLimited,
      unauthorized: this.#unauthorized,
    };
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.#requests = zeroes();
    this.#rateLimited = 0;
    this.#unauthorized = 0;
  }

  /** @internal Counted by the server. */
  recordRequest(endpoint: SandboxEndpoint): void {
    this.#requests[endpoint] += 1;
  }

  /** @internal */
  recordRateLimited(): void {
    this.#rateLimited += 1;
  }

  /** @internal */
  recordUnauthorized(): void {
    this.#unauthorized += 1;
  }
}
