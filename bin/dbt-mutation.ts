// Mutation testing of the dbt models: `npm run mutation:dbt`. Applies each mutation of
// bin/dbt-mutations.ts to a copy of the dbt project, runs the dbt unit tests on DuckDB, and
// records whether one failed. Prints the table and the caught/total figure, and writes them to
// docs/mutation.md under "## dbt" (docs/mutation.md explains the method).
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { DuckDBInstance } from '@duckdb/node-api';
import pMap from 'p-map';
import { format, resolveConfig } from 'prettier';
import * as z from 'zod';
import { parseJsonOrThrow, parseOrThrow } from '../shared/parse.js';
import { stageDdl } from '../infra/adapters/sql/stage-ddl.js';
import { stageSchema, stageTableNames } from '../shared/records/stage-tables.js';
import { applyMutation, dbtMutations, type DbtMutation } from './dbt-mutations.js';
import { dbtSection, replaceDbtSection, type MutationResult } from './dbt-mutation-report.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dbtBinary = path.join(repoRoot, '.venv', 'bin', 'dbt');
const reportPath = path.join(repoRoot, 'docs', 'mutation.md');

const optionsSchema = z.object({
  only: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : value.split(',').map((id) => id.trim()))),
  concurrency: z.coerce.number().int().min(1).max(4),
  write: z.boolean(),
});

/** The few fields of dbt's target/run_results.json read here. */
const runResultsSchema = z.object({
  results: z.array(z.object({ unique_id: z.string(), status: z.string(), message: z.string().nullish() })),
});

interface DbtRun {
  readonly exitCode: number;
  readonly output: string;
}

/** Runs dbt on the project in `workDir/dbt`, its target/ and logs/ in `workDir`, its warehouse `workDir/warehouse.duckdb`. */
const runDbt = (workDir: string, command: readonly string[]): Promise<DbtRun> => {
  const project = path.join(workDir, 'dbt');
  const args = [
    ...command,
    '--target',
    'duckdb',
    '--profiles-dir',
    project,
    '--project-dir',
    project,
    '--target-path',
    path.join(workDir, 'target'),
    '--log-path',
    path.join(workDir, 'logs'),
  ];
  const env = {
    ...process.env,
    CHARTFLOW_DUCKDB_PATH: path.join(workDir, 'warehouse.duckdb'),
    CHARTFLOW_BATCH_ID: 'mutation',
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    NO_COLOR: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(dbtBinary, args, { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 1, output }));
  });
};

/** Copies the dbt project (without its build output) to `workDir/dbt`. */
const copyProject = async (from: string, workDir: string): Promise<void> => {
  await cp(from, path.join(workDir, 'dbt'), {
    recursive: true,
    filter: (source) => !/[\\/](target|logs|dbt_packages)$/.test(source),
  });
};

/**
 * The base every mutation starts from: the project as it is, and a DuckDB warehouse in which the
 * stage and every model exist (empty), since unit tests read their inputs' column types from it.
 * Throws when the unmutated unit tests do not all pass: nothing could be measured then.
 */
const prepareBase = async (workRoot: string): Promise<string> => {
  const base = path.join(workRoot, 'base');
  await mkdir(base, { recursive: true });
  await copyProject(path.join(repoRoot, 'dbt'), base);
  const instance = await DuckDBInstance.create(path.join(base, 'warehouse.duckdb'));
  const connection = await instance.connect();
  try {
    for (const statement of stageDdl('duckdb')) await connection.run(statement);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const build = await runDbt(base, ['build', '--exclude-resource-type', 'unit_test']);
  if (build.exitCode !== 0)
    throw new Error(`dbt build of the empty base failed:\n${build.output.slice(-4000)}`);
  const baseline = await unitTestOutcome(base);
  if (baseline.failed.length > 0 || baseline.errored.length > 0) {
    throw new Error(
      `the unit tests do not pass on the unmutated project (failed: ${baseline.failed.join(', ') || 'none'}; errored: ${baseline.errored.join(', ') || 'none'}):\n${baseline.output.slice(-4000)}`,
    );
  }
  // The scenario must pass on the unmutated project, in a copy (it writes to the warehouse).
  const check = path.join(workRoot, 'scenario-baseline');
  await copyBase(base, check);
  const scenario = await mergeScenario(check);
  await rm(check, { recursive: true, force: true });
  if (scenario !== undefined)
    throw new Error(`the merge scenario fails on the unmutated project: ${scenario}`);
  return base;
};

/** A fresh copy of the base project and warehouse in `workDir`. */
const copyBase = async (base: string, workDir: string): Promise<void> => {
  await mkdir(workDir, { recursive: true });
  await copyProject(path.join(base, 'dbt'), workDir);
  for (const suffix of ['', '.wal']) {
    const file = path.join(base, `warehouse.duckdb${suffix}`);
    if (existsSync(file)) await cp(file, path.join(workDir, `warehouse.duckdb${suffix}`));
  }
};

interface UnitTestOutcome {
  readonly failed: string[];
  readonly errored: string[];
  readonly output: string;
}

/** Runs `dbt test --select test_type:unit` in `workDir` and reads which unit tests failed or errored. */
const unitTestOutcome = async (workDir: string): Promise<UnitTestOutcome> => {
  const run = await runDbt(workDir, ['test', '--select', 'test_type:unit']);
  const resultsPath = path.join(workDir, 'target', 'run_results.json');
  // No results at all: dbt stopped before running a test (the project does not parse).
  if (!existsSync(resultsPath)) {
    return {
      failed: [],
      errored: [`dbt test (exit ${run.exitCode}, no run_results.json)`],
      output: run.output,
    };
  }
  const { results } = parseJsonOrThrow(runResultsSchema, await readFile(resultsPath, 'utf8'), resultsPath);
  if (results.length === 0)
    throw new Error(`dbt test ran no unit test in ${workDir}:\n${run.output.slice(-4000)}`);
  const named = (status: string): string[] =>
    results.filter((r) => r.status === status).map((r) => r.unique_id.split('.').at(-1) ?? r.unique_id);
  return { failed: named('fail'), errored: named('error'), output: run.output };
};

/** Runs SQL statements, each with its parameters, on the DuckDB warehouse of `workDir`. */
const onWarehouse = async <T>(
  workDir: string,
  work: (
    run: (sql: string, values?: (string | number)[]) => Promise<Record<string, unknown>[]>,
  ) => Promise<T>,
): Promise<T> => {
  const instance = await DuckDBInstance.create(path.join(workDir, 'warehouse.duckdb'));
  const connection = await instance.connect();
  try {
    return await work(async (sql, values) => (await connection.runAndReadAll(sql, values)).getRowObjectsJS());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
};

/** A chart_songs stage row of the merge scenario: [chart_id, run_id, extracted_at, position, track_id]. */
type ScenarioRow = [string, string, string, number, string];

const stageDay = async (workDir: string, rows: readonly ScenarioRow[]): Promise<void> =>
  onWarehouse(workDir, async (run) => {
    for (const table of stageTableNames) await run(`delete from ${stageSchema}.${table}`);
    for (const [chartId, runId, extractedAt, position, trackId] of rows) {
      await run(
        `insert into ${stageSchema}.chart_songs (chart_id, chart_date, run_id, extracted_at, position, track_id, track_name, artist_names, source)
         values ($1, cast('2024-01-01' as date), $2, cast($3 as timestamp), $4, $5, $5, 'artist', 'sandbox')`,
        [chartId, runId, extractedAt, position, trackId],
      );
    }
  });

/**
 * The merge scenario (docs/mutation.md, "dbt"): builds fct_chart_entries from one day of two
 * charts, then from a replay of the first chart's day without t2. The fact must then hold exactly
 * global's t1 and us's t1. Returns what was wrong, or undefined.
 */
const mergeScenario = async (workDir: string): Promise<string | undefined> => {
  const days: ScenarioRow[][] = [
    [
      ['global', 'run-1', '2024-01-01 06:00:00', 1, 't1'],
      ['global', 'run-1', '2024-01-01 06:00:00', 2, 't2'],
      ['us', 'run-1', '2024-01-01 06:00:00', 1, 't1'],
    ],
    [['global', 'run-2', '2024-01-02 06:00:00', 1, 't1']],
  ];
  for (const rows of days) {
    await stageDay(workDir, rows);
    const build = await runDbt(workDir, ['run', '--select', 'fct_chart_entries']);
    if (build.exitCode !== 0) return `dbt run failed: ${build.output.slice(-2000)}`;
  }
  const found = await onWarehouse(workDir, (run) =>
    run(`select chart_id || '/' || track_id as entry from marts.fct_chart_entries order by 1`),
  );
  const entries = found.map((row) => String(row.entry)).join(', ');
  return entries === 'global/t1, us/t1'
    ? undefined
    : `after the replay the fact holds ${entries || 'nothing'}`;
};

/** Applies one mutation to a fresh copy of the base and runs the unit tests on it. */
const runMutation = async (
  base: string,
  workRoot: string,
  mutation: DbtMutation,
): Promise<MutationResult> => {
  const workDir = path.join(workRoot, mutation.id);
  await copyBase(base, workDir);
  const modelPath = path.join(workDir, 'dbt', mutation.file);
  await writeFile(modelPath, applyMutation(await readFile(modelPath, 'utf8'), mutation));
  const outcome = await unitTestOutcome(workDir);
  const scenario = mutation.mergeScenario ? await mergeScenario(workDir) : undefined;
  await rm(workDir, { recursive: true, force: true });
  const killedBy = [...outcome.failed, ...(scenario === undefined ? [] : [`merge scenario: ${scenario}`])];
  if (outcome.errored.length > 0) return { mutation, status: 'broken', killedBy: outcome.errored };
  if (killedBy.length > 0) return { mutation, status: 'caught', killedBy };
  return { mutation, status: 'survived', killedBy: [] };
};

/** What is wrong with the results: survivors not explained, and explanations a test contradicts. */
const problemsOf = (results: readonly MutationResult[]): string[] =>
  results.flatMap(({ mutation, status }) => {
    if (status === 'broken')
      return [`${mutation.id}: the mutated model does not run (a mutation must give valid SQL)`];
    if (status === 'survived' && mutation.equivalent === undefined) {
      return [`${mutation.id}: survived (${mutation.change})`];
    }
    if (status === 'caught' && mutation.equivalent !== undefined) {
      return [`${mutation.id}: listed as equivalent but caught: correct the list`];
    }
    return [];
  });

const parseOptions = (argv: readonly string[]) => {
  const command = new Command('mutation:dbt')
    .description(
      'Applies each mutation of bin/dbt-mutations.ts to a copy of the dbt project and runs its unit tests.',
    )
    .option('--only <ids>', 'comma-separated mutation ids to run (the report is then not written)')
    .option('--concurrency <n>', 'mutations run at once', '2')
    .option('--no-write', 'do not write docs/mutation.md')
    .parse(argv);
  const options = parseOrThrow(optionsSchema, command.opts(), 'mutation:dbt options');
  const unknown = (options.only ?? []).filter((id) => !dbtMutations.some((m) => m.id === id));
  if (unknown.length > 0)
    throw new Error(`mutation:dbt options: unknown mutation id(s): ${unknown.join(', ')}`);
  return options;
};

const main = async (): Promise<number> => {
  const options = parseOptions(process.argv);
  if (!existsSync(dbtBinary))
    throw new Error(`dbt is not installed at ${dbtBinary}: run "bash infra/local/ensure-dbt-venv.sh"`);
  const selected = options.only ? dbtMutations.filter((m) => options.only?.includes(m.id)) : dbtMutations;
  // Every snippet is checked before anything runs, so a stale list fails at once.
  for (const mutation of selected)
    applyMutation(await readFile(path.join(repoRoot, 'dbt', mutation.file), 'utf8'), mutation);
  const workRoot = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-mutation-'));
  try {
    const base = await prepareBase(workRoot);
    let done = 0;
    const results = await pMap(
      selected,
      async (mutation) => {
        const result = await runMutation(base, workRoot, mutation);
        done += 1;
        process.stderr.write(`[${done}/${selected.length}] ${mutation.id}: ${result.status}\n`);
        return result;
      },
      { concurrency: options.concurrency },
    );
    // As prettier writes it, so that `npm run lint` (prettier --check) accepts the file as written.
    const section = await format(dbtSection(results), {
      ...(await resolveConfig(reportPath)),
      parser: 'markdown',
    });
    process.stdout.write(`${section}\n`);
    if (options.write && !options.only) {
      const current = existsSync(reportPath) ? await readFile(reportPath, 'utf8') : undefined;
      await writeFile(reportPath, replaceDbtSection(current, section));
    }
    const problems = problemsOf(results);
    for (const problem of problems) process.stderr.write(`mutation:dbt: ${problem}\n`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }
};

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`mutation:dbt: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
