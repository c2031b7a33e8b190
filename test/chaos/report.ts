import type { ScenarioOutcome } from './run-scenario.js';
import { describeScenario, faultKinds, type FaultKind } from './scenario.js';

/** Per fault kind: the scenarios that armed it, the faults that fired, the scenarios with violations. */
export interface KindFigures {
  readonly kind: FaultKind;
  readonly scenarios: number;
  readonly injected: number;
  readonly violations: number;
}

export const figuresByKind = (outcomes: readonly ScenarioOutcome[]): KindFigures[] =>
  faultKinds.map((kind) => {
    const armed = outcomes.filter((o) => o.scenario.faults.some((f) => f.kind === kind));
    return {
      kind,
      scenarios: armed.length,
      injected: outcomes.reduce((n, o) => n + (o.injected.get(kind) ?? 0), 0),
      violations: armed.filter((o) => o.violations.length > 0).length,
    };
  });

/** The table `npm run chaos` prints (Markdown, so that it goes into the docs as it is). */
export const figuresTable = (outcomes: readonly ScenarioOutcome[]): string => {
  const rows = figuresByKind(outcomes).map(
    (f) =>
      `| ${f.kind.padEnd(23)} | ${String(f.scenarios).padStart(9)} | ${String(f.injected).padStart(15)} | ${String(f.violations).padStart(10)} |`,
  );
  const failed = outcomes.filter((o) => o.violations.length > 0).length;
  return [
    '| fault kind              | scenarios | faults injected | violations |',
    '| ----------------------- | --------: | --------------: | ---------: |',
    ...rows,
    `| all                     | ${String(outcomes.length).padStart(9)} | ${String(outcomes.reduce((n, o) => n + [...o.injected.values()].reduce((a, b) => a + b, 0), 0)).padStart(15)} | ${String(failed).padStart(10)} |`,
  ].join('\n');
};

/** A failing scenario as it is reported: its seed and steps, what happened, and what broke. */
export const describeFailure = (outcome: ScenarioOutcome): string =>
  [
    `FAILED ${describeScenario(outcome.scenario)[0]}`,
    ...describeScenario(outcome.scenario).slice(1),
    ...outcome.log,
    `  ${describeInjected(outcome)}`,
    ...outcome.violations.map((v) => `  violation: ${v}`),
    `  reproduce: npm run chaos -- --seed ${outcome.scenario.seed} --scenarios 1`,
  ].join('\n');

/** "injected: store.put-error x2, process.sigkill x1", or that none fired. */
export const describeInjected = (outcome: ScenarioOutcome): string => {
  const fired = [...outcome.injected.entries()].map(([kind, n]) => `${kind} x${n}`);
  return fired.length > 0 ? `injected: ${fired.join(', ')}` : 'no fault fired';
};
