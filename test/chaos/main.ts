import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import * as z from 'zod';
import { References } from './reference.js';
import { describeFailure, describeInjected, figuresTable } from './report.js';
import { runScenario, type ScenarioOutcome } from './run-scenario.js';
import { describeScenario, drawScenario, faultKinds, type Scenario } from './scenario.js';

/**
 * `npm run chaos -- [--seed N] [--scenarios K] [--jobs J]`: draws K scenarios, seeds N to N+K-1,
 * runs each with its faults, completes it, checks it, and prints a table per fault kind
 * (docs/chaos.md). With `--jobs`, J processes share the seeds (each scenario has its own home and
 * sandbox, so they do not meet). Exits 1 if any scenario broke a promise.
 */
const optionsSchema = z.object({
  seed: z.coerce.number().int().nonnegative().default(1),
  scenarios: z.coerce.number().int().positive().max(10_000).default(300),
  jobs: z.coerce.number().int().positive().max(16).default(1),
  verbose: z.boolean().default(false),
  keep: z.boolean().default(false),
  /** Chosen seeds instead of a range: how a list of failing seeds is run again. */
  seeds: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'a comma-separated list of seeds')
    .transform((list) => list.split(',').map(Number))
    .optional(),
  /** Set by the parent of `--jobs`: where a job writes its outcomes. */
  outcomes: z.string().optional(),
});

const program = new Command('chaos')
  .description('the seeded chaos suite: faults at every port, then completed and checked')
  .option('--seed <n>', 'the first scenario seed')
  .option('--scenarios <k>', 'how many scenarios, seeds N to N+K-1')
  .option('--seeds <list>', 'these seeds (comma-separated) instead of a range')
  .option('--jobs <j>', 'run the scenarios in this many processes (a core each)')
  .option('--verbose', 'print what happened in every scenario, not only in failing ones')
  .option('--keep', "keep a failing scenario's home (lake and warehouse) and print where")
  .addOption(new Option('--outcomes <file>').hideHelp());
program.parse(process.argv.filter((arg, i) => !(i === 2 && arg === '--')));
const parsed = optionsSchema.safeParse(program.opts());
if (!parsed.success) {
  process.stderr.write(
    `chaos: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
  );
  process.exit(2);
}
const { seed, scenarios, verbose, jobs, keep } = parsed.data;
const seeds = parsed.data.seeds ?? Array.from({ length: scenarios }, (_, i) => seed + i);

/** A job's outcomes as JSON (the fault counts as entries). */
const outcomeFileSchema = z.array(
  z.object({
    scenario: z.custom<Scenario>((value) => typeof value === 'object' && value !== null),
    violations: z.array(z.string()),
    injected: z.array(z.tuple([z.enum(faultKinds), z.number()])),
    log: z.array(z.string()),
    verified: z.boolean(),
    seconds: z.number(),
  }),
);

/** Runs the seeds here, one after the other. */
const runHere = async (mine: readonly number[], references: References): Promise<ScenarioOutcome[]> => {
  const outcomes: ScenarioOutcome[] = [];
  for (const each of mine) {
    const scenario = drawScenario(each);
    process.stderr.write(`${describeScenario(scenario).join('\n')}\n`);
    const outcome = await runScenario(scenario, references, { keepFailing: keep });
    outcomes.push(outcome);
    process.stderr.write(
      outcome.violations.length > 0
        ? `${describeFailure(outcome)}\n`
        : `${verbose ? outcome.log.map((line) => `${line}\n`).join('') : ''}  ok in ${outcome.seconds.toFixed(1)} s (seed ${each}), ${describeInjected(outcome)}\n`,
    );
  }
  return outcomes;
};

/** Runs the seeds in `jobs` child processes of this script, seeds dealt round-robin, and gathers their outcomes. */
const runInJobs = async (): Promise<{
  outcomes: ScenarioOutcome[];
  references: number;
  referenceSeconds: number;
}> => {
  const folder = await mkdtemp(path.join(tmpdir(), 'chartflow-chaos-jobs-'));
  try {
    const shares = Array.from({ length: jobs }, (_, j) => seeds.filter((_, i) => i % jobs === j)).filter(
      (share) => share.length > 0,
    );
    const results = await Promise.all(
      shares.map(async (share, j) => {
        const file = path.join(folder, `job-${j}.json`);
        const args = [...process.execArgv, process.argv[1]!, '--seeds', share.join(','), '--outcomes', file];
        if (verbose) args.push('--verbose');
        if (keep) args.push('--keep');
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
          child.once('close', (c) => resolve(c));
        });
        const body: unknown = JSON.parse(await readFile(file, 'utf8').catch(() => 'null'));
        if (body === null)
          throw new Error(
            `chaos job ${j} (seeds ${share.join(',')}) ended with code ${code} and no outcomes`,
          );
        return z
          .object({ outcomes: outcomeFileSchema, references: z.number(), referenceSeconds: z.number() })
          .parse(body);
      }),
    );
    const outcomes = results
      .flatMap((r) => r.outcomes)
      .map((o) => ({ ...o, injected: new Map(o.injected) }))
      .sort((a, b) => seeds.indexOf(a.scenario.seed) - seeds.indexOf(b.scenario.seed));
    return {
      outcomes,
      references: results.reduce((n, r) => n + r.references, 0),
      referenceSeconds: results.reduce((n, r) => n + r.referenceSeconds, 0),
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
};

/**
 * Ends the process once what it printed is out. A killed pipeline instance is abandoned by design,
 * as a SIGKILLed process's work is, and what it had in flight may still hold a timer or a socket
 * that would keep the suite from ever exiting.
 */
const finish = (code: number): void => {
  process.stdout.write('', () => process.exit(code));
};

const started = performance.now();
if (parsed.data.outcomes) {
  const references = new References();
  const outcomes = await runHere(seeds, references);
  await writeFile(
    parsed.data.outcomes,
    JSON.stringify({
      outcomes: outcomes.map((o) => ({ ...o, injected: [...o.injected.entries()] })),
      references: references.built,
      referenceSeconds: references.seconds,
    }),
  );
  finish(0);
} else {
  let outcomes: ScenarioOutcome[];
  let built: number;
  let referenceSeconds: number;
  if (jobs > 1) {
    ({ outcomes, references: built, referenceSeconds } = await runInJobs());
  } else {
    const references = new References();
    outcomes = await runHere(seeds, references);
    built = references.built;
    referenceSeconds = references.seconds;
  }
  const seconds = (performance.now() - started) / 1000;
  const scenarioSeconds = outcomes.reduce((n, o) => n + o.seconds, 0);
  process.stdout.write(`\n${figuresTable(outcomes)}\n\n`);
  process.stdout.write(
    `${outcomes.length} scenarios in ${seconds.toFixed(0)} s with ${jobs} job(s): ${(scenarioSeconds / outcomes.length).toFixed(1)} s per scenario, ` +
      `${built} fault-free reference(s) in ${referenceSeconds.toFixed(0)} s (included).\n`,
  );
  const failed = outcomes.filter((o) => o.violations.length > 0);
  for (const outcome of failed) process.stdout.write(`\n${describeFailure(outcome)}\n`);
  finish(failed.length > 0 ? 1 : 0);
}
