import { describe, expect, it } from 'vitest';
import { References } from './reference.js';
import { describeFailure } from './report.js';
import { runScenario } from './run-scenario.js';
import { drawScenario } from './scenario.js';

/**
 * The seeded chaos suite's fixed set (docs/chaos.md, "The fixed set"): seeds of `npm run chaos`
 * chosen so that every fault kind is armed in several and fires in at least one, every operation
 * (the ingest too) is among them, and a scenario costs one or two dbt builds. The seeds of the
 * suite's findings are here as regression tests (9: dbt killed from outside; 159: an interrupt
 * still being handled when its operation ended). Four shares of ten, one test file each, so that
 * vitest's two workers share them; each share builds the fault-free references of its own days.
 */
export const fixedShares: readonly (readonly number[])[] = [[6, 9, 17, 29], [146, 151, 159], [], []];

export const fixedSeeds = fixedShares.flat();

/** The tests of one share: each seed's scenario, completed after its faults, passes every check. */
export const fixedShareTests = (share: number): void => {
  describe(`Feature: the seeded chaos suite, fixed set, share ${share + 1} of ${fixedShares.length}`, () => {
    const references = new References();
    it.each(fixedShares[share]!)(
      'seed %i: completed after its faults, ends as the fault-free run, nothing lost, nothing left',
      async (seed) => {
        const outcome = await runScenario(drawScenario(seed), references);
        expect(outcome.violations, describeFailure(outcome)).toEqual([]);
        expect(outcome.injected.size, `no fault fired:\n${describeFailure(outcome)}`).toBeGreaterThan(0);
      },
      600_000,
    );
  });
};
