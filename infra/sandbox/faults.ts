/**
 * Faults a test switches on and off while the sandbox runs. A track id marked as failing makes
 * every lookup that includes it answer 500, as a provider does for a record it chokes on: the
 * pipeline must isolate it, retry it, and finally dead-letter it with the reason.
 */
export class SandboxFaults {
  readonly #failingTracks = new Set<string>();

  /** Every track lookup (several or single) that includes one of these ids answers 500. */
  failTrackLookups(ids: Iterable<string>): void {
    for (const id of ids) this.#failingTracks.add(id);
  }

  /** Whether a lookup of these ids must fail. */
  failsTrackLookup(ids: readonly string[]): boolean {
    return ids.some((id) => this.#failingTracks.has(id));
  }

  /** Back to a healthy sandbox. */
  clear(): void {
    this.#failingTracks.clear();
  }
}
