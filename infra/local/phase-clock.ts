/** The spans of a run's phases: each phase from its first start to its last end. */
export class PhaseClock {
  readonly #spans = new Map<string, { start: number; end: number }>();

  record(phase: string, start: number, end: number): void {
    const span = this.#spans.get(phase);
    this.#spans.set(
      phase,
      span ? { start: Math.min(span.start, start), end: Math.max(span.end, end) } : { start, end },
    );
  }

  /** Milliseconds per phase, rounded. */
  durations(): Record<string, number> {
    return Object.fromEntries([...this.#spans].map(([phase, s]) => [phase, Math.round(s.end - s.start)]));
  }

  reset(): void {
    this.#spans.clear();
  }
}
