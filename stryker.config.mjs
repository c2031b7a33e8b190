// Mutation testing: `npm run mutation` (docs/mutation.md says what it measures, how to run it,
// and what each choice below is for).

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  // The scope of issue 17: the services (their handlers too: here they parse events, choose a
  // path and a back-off, so they hold decisions a test should pin; the pure wiring lives in
  // infra/aws/functions/, outside the scope), the parts of shared/ that hold logic, and the local
  // runtime's queue and store. test/stryker-config.test.ts fails when a pattern matches nothing.
  mutate: [
    'services/**/*.ts',
    'shared/lake/**/*.ts',
    'shared/records/**/*.ts',
    'shared/events/**/*.ts',
    'shared/config/**/*.ts',
    'shared/http/**/*.ts',
    'shared/spotify/**/*.ts',
    'shared/reccobeats/**/*.ts',
    'shared/transform/**/*.ts',
    'infra/adapters/embedded/memory-queue.ts',
    'infra/adapters/embedded/fs-object-store.ts',
    // Types only: no statement to mutate.
    '!services/track-attributes/enrichment/attribute-provider.ts',
  ],
  testRunner: 'vitest',
  // The fast tests that exercise the scope, without end-to-end, chaos and dbt-project tests.
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: 'perTest',
  // Mutants whose file and covering tests did not change keep their last result. The file is
  // committed gzipped (bin/mutation.ts unpacks and packs it), so that a fresh clone starts from
  // the last measured run (docs/mutation.md).
  incremental: true,
  // Static mutants (code that runs once, as a module loads: schemas, constants, tables) cannot be
  // narrowed to the tests that reach them: each runs every test of the run. They are about a tenth
  // of the mutants and three quarters of a whole run's time here. Left out; the summary counts
  // them per folder (docs/mutation.md, "Static mutants").
  ignoreStatic: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Two cores: one test runner each. Stryker's own process mostly waits.
  concurrency: 2,
  // A mutant's time limit is its tests' time in the dry run, times the factor, plus timeoutMS.
  // The scope's tests run DuckDB and local HTTP servers, and moto for the lock: a loaded
  // machine makes them slow, and a mutant wrongly timed out would count as killed.
  timeoutFactor: 2,
  timeoutMS: 30_000,
  dryRunTimeoutMinutes: 30,
  // Restart a test runner now and then: DuckDB instances and servers left by a killed test add up.
  maxTestRunnerReuse: 100,
  // Left out of the sandbox Stryker copies the project into: virtualenvs (the mutation runs'
  // vitest set-up links them from the checkout, test/support/mutation-sandbox.ts), builds, state.
  ignorePatterns: [
    // Other runs' sandboxes (a run may name its own with --tempDirName) and reports.
    '.stryker-tmp*',
    'reports',
    '.venv',
    '.venv-moto',
    '.chartflow',
    'dist',
    'coverage',
    '.serverless',
    '.esbuild',
    'dbt/target',
    'dbt/logs',
    'dbt/dbt_packages',
    '*.duckdb',
    '*.duckdb.wal',
  ],
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: true },
  // The targets; the run never fails on them (the summary says where they are missed).
  thresholds: { high: 80, low: 70, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
