import type { BackfillSummary, RunSummary } from '../../infra/local/run-summary.js';

/** A day's run summary with nothing in it, for the formatter tests to change what they look at. */
export const runSummary = (overrides: Partial<RunSummary> = {}): RunSummary => ({
  chartId: 'global',
  chartDate: '2026-09-14',
  runId: 'run-1',
  loadId: 'load-1',
  status: 'succeeded',
  reason: null,
  damagedFiles: [],
  missing: { notFound: 0, withoutFeatures: 0, byKind: { quota: 0, provider_error: 0, not_found: 0 } },
  rows: { stage: {}, marts: {}, chartEntriesThisDay: 0 },
  top: [],
  requests: {},
  checks: { passed: 0, failed: [] },
  deadLettered: [],
  skipped: [],
  quarantined: [],
  failedInvocations: [],
  dbtMessage: null,
  spotifyAccess: 'none',
  backlog: null,
  openBreakers: [],
  timingsMs: { extract: 0, enrich: 0, load: 0, checks: 0, dbt: 0 },
  ...overrides,
});

/** A backfill's summary with nothing in it, likewise. */
export const backfillSummary = (overrides: Partial<BackfillSummary> = {}): BackfillSummary => ({
  batchId: 'batch-1',
  status: 'succeeded',
  loads: 0,
  failedLoads: 0,
  failedChecks: [],
  days: [],
  rows: {},
  marts: {},
  requests: {},
  spotifyAccess: 'none',
  dbtMessage: null,
  failedInvocations: [],
  backlog: null,
  openBreakers: [],
  timingsMs: { total: 0, load: 0, fetch: 0, enrich: 0, stageLoad: 0, checks: 0, dbt: 0 },
  busyMs: { fetch: 0, enrich: 0, stageLoad: 0 },
  ...overrides,
});
