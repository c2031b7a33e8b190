import { Command } from 'commander';
import { z } from 'zod';
import { lakeVerifier } from './checks.js';
import { References } from './reference.js';
import { describeFailure, describeInjected, figuresTable } from './report.js';
import { runScenario, type ScenarioOutcome } from './run-scenario.js';
import { describeScenario, drawScenario } from './scenario.js';

/**
 * `npm run chaos -- [--seed N] [--scenarios K]`: draws K scenarios, seeds N to N+K-1, runs each
 * with its faults, completes it, checks it, and prints a table per fault kind (docs/chaos.md).
 * Exits 1 if any scenario broke a promise.
 */
const optionsSchema = z.object({
  seed: z.coerce.number().int().nonnegative().default(1),
  scenarios: z.coerce.number().int().positive().max(10_000).default(300),
  verbose: z.boolean().default(false),
  /** Chosen seeds instead of a range: how a list of failing seeds is run again. */
  seeds: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'a comma-separated list of seeds')
    .transform((list) => list.split(',').map(Number))
    .optional(),
});

const program = new Command('chaos')
  .description('the seeded chaos suite: faults at every port, then completed and checked')
  .option('--seed <n>', 'the first scenario seed')
  .option('--scenarios <k>', 'how many scenarios, seeds N to N+K-1')
  .option('--seeds <list>', 'these seeds (comma-separated) instead of a range')
  .option('--verbose', 'print what happened in every scenario, not only in failing ones');
program.parse(process.argv.filter((arg, i) => !(i === 2 && arg === '--')));
const parsed = optionsSchema.safeParse(program.opts());
if (!parsed.success) {
  process.stderr.write(
    `chaos: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
  );
  process.exit(2);
}
const { seed, scenarios, verbose } = parsed.data;
const seeds = parsed.data.seeds ?? Array.from({ length: scenarios }, (_, i) => seed + i);

const references = new References();
const outcomes: ScenarioOutcome[] = [];
const started = performance.now();
for (const each of seeds) {
  const scenario = drawScenario(each);
  process.stderr.write(`${describeScenario(scenario).join('\n')}\n`);
  const outcome = await runScenario(scenario, references);
  outcomes.push(outcome);
  process.stderr.write(
    outcome.violations.length > 0
      ? `${describeFailure(outcome)}\n`
      : `${verbose ? outcome.log.map((line) => `${line}\n`).join('') : ''}  ok in ${outcome.seconds.toFixed(1)} s, ${describeInjected(outcome)}\n`,
  );
}
const seconds = (performance.now() - started) / 1000;
const scenarioSeconds = outcomes.reduce((n, o) => n + o.seconds, 0);
process.stdout.write(`\n${figuresTable(outcomes)}\n\n`);
process.stdout.write(
  `${outcomes.length} scenarios in ${seconds.toFixed(0)} s: ${(scenarioSeconds / outcomes.length).toFixed(1)} s per scenario, ` +
    `${references.built} fault-free reference(s) in ${references.seconds.toFixed(0)} s (included).\n`,
);
if (!lakeVerifier)
  process.stdout.write('verify: not run (chartflow verify is not built yet; test/chaos/checks.ts).\n');
const failed = outcomes.filter((o) => o.violations.length > 0);
for (const outcome of failed) process.stdout.write(`\n${describeFailure(outcome)}\n`);
process.exitCode = failed.length > 0 ? 1 : 0;
