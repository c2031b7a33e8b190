/**
 * The performance budgets `npm run bench` holds its figures to (docs/benchmark.md). Timings live
 * only here and in the bench, never in timed tests; sizes are no timing, so the Lambda zip budget
 * is also held by `npm test` (test/infra/aws/serverless-package.test.ts).
 */

/** Each function's zipped package, as `serverless package` builds it. */
export const lambdaZipBudgetBytes = 250_000;
