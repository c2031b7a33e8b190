import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metrics } from '../ports/metrics.js';

/** What one piece of work asked of each provider: its requests, and how many were answered 429. */
interface Tally {
  readonly requests: Map<string, number>;
  readonly throttled: Map<string, number>;
}

/** The tally of the work under way in this async context, if anything tallies it. */
const tallies = new AsyncLocalStorage<Tally>();

/** Counts per provider, sorted by provider. */
const sorted = (counts: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));

const add = (counts: Map<string, number>, provider: string): void => {
  counts.set(provider, (counts.get(provider) ?? 0) + 1);
};

/**
 * Counts the HTTP requests made to each provider, so that a run can say what it cost.
 * One counter per process, shared by every client of it.
 */
export class RequestCounter {
  readonly #counts = new Map<string, number>();

  record(provider: string): void {
    add(this.#counts, provider);
    const tally = tallies.getStore();
    if (tally) add(tally.requests, provider);
  }

  /**
   * A request (recorded already) that the provider answered 429: the work's tally counts it, for
   * the provider's metrics (docs/aws.md, "Metrics and the dashboard").
   */
  recordThrottled(provider: string): void {
    const tally = tallies.getStore();
    if (tally) add(tally.throttled, provider);
  }

  /** Requests per provider since the counter was made (or last reset). */
  snapshot(): Record<string, number> {
    return sorted(this.#counts);
  }

  reset(): void {
    this.#counts.clear();
  }
}

/**
 * Runs `work` and answers, beside its value, the requests it made itself: those recorded in its
 * own async context, whatever else the process does meanwhile (the local runtime runs several
 * invocations at once; a Lambda one). The lake keeps them in the manifests of what the work wrote,
 * and the run record sums them (docs/architecture.md, "Contracts"). `throttled` says how many of
 * them a provider answered 429 (providers with none are left out).
 */
export const tallyRequests = async <T>(
  work: () => Promise<T>,
): Promise<{
  readonly value: T;
  readonly requests: Record<string, number>;
  readonly throttled: Record<string, number>;
}> => {
  const tally: Tally = { requests: new Map(), throttled: new Map() };
  const value = await tallies.run(tally, work);
  return { value, requests: sorted(tally.requests), throttled: sorted(tally.throttled) };
};

/**
 * A piece of work's requests as metrics: per provider, its requests and its 429s. Emitted where
 * the work is tallied, for every try of it (a retried delivery asks again, and its requests count).
 */
export const emitRequests = (
  metrics: Metrics,
  tally: { readonly requests: Record<string, number>; readonly throttled: Record<string, number> },
): void => {
  for (const [provider, requests] of Object.entries(tally.requests)) {
    metrics.providerRequests(provider, requests, tally.throttled[provider] ?? 0);
  }
};
