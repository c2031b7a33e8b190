import { AsyncLocalStorage } from 'node:async_hooks';

/** The requests per provider of the work under way in this async context, if any tallies them. */
const tallies = new AsyncLocalStorage<Map<string, number>>();

/** Requests per provider, sorted by provider. */
const sorted = (counts: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));

/**
 * Counts the HTTP requests made to each provider, so that a run can say what it cost.
 * One counter per process, shared by every client of it.
 */
export class RequestCounter {
  readonly #counts = new Map<string, number>();

  record(provider: string): void {
    this.#counts.set(provider, (this.#counts.get(provider) ?? 0) + 1);
    const tally = tallies.getStore();
    tally?.set(provider, (tally.get(provider) ?? 0) + 1);
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
 * and the run record sums them (docs/architecture.md, "Contracts").
 */
export const tallyRequests = async <T>(
  work: () => Promise<T>,
): Promise<{ readonly value: T; readonly requests: Record<string, number> }> => {
  const tally = new Map<string, number>();
  const value = await tallies.run(tally, work);
  return { value, requests: sorted(tally) };
};
