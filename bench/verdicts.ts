/** One figure of the bench's table: what was measured, over how many runs, against its budget. */
export interface Figure {
  readonly figure: string;
  readonly value: number;
  readonly unit: 'ms' | 'bytes' | 'ratio' | 'requests';
  readonly budget: number;
  readonly runs: number;
}

/** A figure with its verdict: within its budget (at most the budget), or not. */
export type Verdict = Figure & { readonly pass: boolean };

/**
 * Every figure against its budget, the line that ends the bench's table, and the exit code of
 * `npm run bench`: 1 when any budget is missed, so that a script or CI running it fails.
 */
export const judge = (
  figures: readonly Figure[],
): { verdicts: Verdict[]; failed: number; summary: string; exitCode: 0 | 1 } => {
  const verdicts = figures.map((f) => ({ ...f, pass: f.value <= f.budget }));
  const failed = verdicts.filter((f) => !f.pass).length;
  return {
    verdicts,
    failed,
    summary:
      failed === 0
        ? 'Every budget is met.'
        : `${failed} budget(s) NOT met: ${verdicts
            .filter((f) => !f.pass)
            .map((f) => f.figure)
            .join(', ')}.`,
    exitCode: failed === 0 ? 0 : 1,
  };
};
