/**
 * The phases of a run: each phase's span, from its first start to its last end, and its busy time,
 * the sum of its invocations' durations. When days overlap (a backfill), spans overlap too, and the
 * busy time says where the work went.
 */
export class PhaseClock {
  readonly #spans = new Map<string, { start: number; end: number; busy: number }>();

  record(phase: string, start: number, end: number): void {
    const span = this.#spans.get(phase);
    this.#spans.set(
      phase,
      span
        ? { start: Math.min(span.start, start), end: Math.max(span.end, end), busy: span.busy + end - start }
        : { start, end, busy: end - start },
    );
  }

  /** Milliseconds per phase, from its first start to its last end, rounded. */
  durations(): Record<string, number> {
    return Object.fromEntries([...this.#spans].map(([phase, s]) => [phase, Math.round(s.end - s.start)]));
  }

  /** Milliseconds per phase spent in its invocations, added up, rounded. */
  busy(): Record<string, number> {
    return Object.fromEntries([...this.#spans].map(([phase, s]) => [phase, Math.round(s.busy)]));
  }

  reset(): void {
    this.#spans.clear();
  }
}
