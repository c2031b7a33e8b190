import { defineConfig } from 'vitest/config';

/**
 * The tests a mutation run uses (stryker.config.mjs, docs/mutation.md): the fast ones that
 * exercise the mutated scope. Left out: test/e2e and test/chaos (whole pipelines with dbt),
 * test/dbt (the dbt project), and the adapters' and command line's tests, which reach the scope
 * only through a whole pipeline or an adapter outside it.
 */
export const mutationTests = [
  'test/services/**/*.test.ts',
  'test/shared/**/*.test.ts',
  'test/infra/adapters/embedded/memory-queue.test.ts',
  'test/infra/adapters/embedded/fs-object-store.test.ts',
];

export default defineConfig({
  test: {
    include: mutationTests,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A mutant's run logs whatever the mutant makes it do; nobody reads it.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    // In Stryker's sandbox, links the virtualenvs the tests start (moto) from the checkout.
    globalSetup: ['test/support/mutation-sandbox.ts'],
  },
});
