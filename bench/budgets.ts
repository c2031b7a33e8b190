/**
 * The performance budgets `npm run bench` holds its figures to (docs/benchmark.md). Timings live
 * only here and in the bench, never in timed tests; sizes are no timing, so the Lambda zip budget
 * is also held by `npm test` (test/infra/aws/serverless-package.test.ts).
 */

/** `chartflow --help`, a new process, start to exit. */
export const processStartBudgetMs = 500;

/** A warm sandbox day (the day after another), end to end, dbt included. */
export const warmDayBudgetMs = 5_000;

/** The dbt phase of that day. */
export const dbtPhaseBudgetMs = 3_500;

/** A new day's dbt phase on top of 365 days of history, against on top of 30. */
export const historyCostRatioBudget = 1.3;

/** Each function's zipped package, as `serverless package` builds it. */
export const lambdaZipBudgetBytes = 250_000;

/** Each function's module initialisation on Node 22 (the Lambda runtime's major), in a new process. */
export const lambdaInitBudgetMs = 150;

/** A one-year backfill (365 days × 200 entries) in one batch, on the embedded default. */
export const yearBackfillBudgetMs = 30_000;

/** Its peak memory (the Node.js process's RSS; dbt runs in processes of its own). */
export const yearBackfillRssBudgetBytes = 1_500 * 1024 * 1024;

/** A provider's requests for a chart day, at most this many above the fewest possible. */
export const requestsOverMinimumBudget = 1;

/** The report of a one-year warehouse: written by a new `chartflow report` process, and drawn in Chromium. */
export const reportRenderBudgetMs = 5_000;

/** Its file, small enough to send by mail. */
export const reportSizeBudgetBytes = 2 * 1024 * 1024;
