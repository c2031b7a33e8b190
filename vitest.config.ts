import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests run real dbt; a day takes seconds, not milliseconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // DuckDB files and dbt processes are per test, but two cores is what CI has.
    maxWorkers: 2,
    // Tests provoke failures on purpose; their warnings would bury the report.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
  },
});
