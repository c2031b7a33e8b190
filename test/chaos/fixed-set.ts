import { describe, expect, it } from 'vitest';
import { References } from './reference.js';
import { describeFailure } from './report.js';
import { runScenario } from './run-scenario.js';
import { drawScenario } from './scenario.js';

/**
 * The seeded chaos suite's fixed set (docs/chaos.md, "The fixed set"): seeds of `npm run chaos`
 * chosen so that every fault kind is armed in several and fires in at least one, every operation
 * (the ingest too) is among them, and they are the cheapest that do. The seeds of every finding
 * are here as regression tests (9, 37, 64, 159, 190, 209, 269, 296: docs/chaos.md, "Findings").
 * Four shares of about ten, one test file each, so that vitest's two workers share them; each
 * share builds the fault-free references of its own days.
 */
export const fixedShares: readonly (readonly number[])[] = [
  [76, 154, 159, 190, 224, 251, 273, 278, 300],
  [37, 63, 202, 216, 245, 246, 261, 281, 285, 296],
  [98, 151, 194, 200, 209, 218, 221, 255, 263, 264, 291, 293],
  [9, 24, 64, 123, 148, 153, 193, 269, 299],
];

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
