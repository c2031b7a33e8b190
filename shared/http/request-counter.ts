/**
 * Counts the HTTP requests made to each provider, so that a run can say what it cost.
 * One counter per process, shared by every client of it.
 */
export class RequestCounter {
  readonly #counts = new Map<string, number>();

  record(provider: string): void {
    this.#counts.set(provider, (this.#counts.get(provider) ?? 0) + 1);
  }

  /** Requests per provider since the counter was made (or last reset). */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.#counts.clear();
  }
}
