import { describe, expect, it } from 'vitest';
import { judge, type Figure } from '../../bench/verdicts.js';

const figure = (name: string, value: number, budget: number): Figure => ({
  figure: name,
  value,
  unit: 'ms',
  budget,
  runs: 5,
});

describe('the bench against its budgets', () => {
  it('exits 0 when every figure is within its budget, one exactly on it', () => {
    const verdict = judge([figure('process start', 210, 500), figure('warm day', 5_000, 5_000)]);
    expect(verdict.verdicts.map((v) => v.pass)).toEqual([true, true]);
    expect(verdict).toMatchObject({ failed: 0, summary: 'Every budget is met.', exitCode: 0 });
  });

  it('exits 1 when any figure misses its budget, naming it', () => {
    const verdict = judge([
      figure('process start', 210, 500),
      figure('one-year backfill', 30_001, 30_000),
      figure('warm day', 6_000, 5_000),
    ]);
    expect(verdict.verdicts.map((v) => v.pass)).toEqual([true, false, false]);
    expect(verdict).toMatchObject({
      failed: 2,
      summary: '2 budget(s) NOT met: one-year backfill, warm day.',
      exitCode: 1,
    });
  });
});
