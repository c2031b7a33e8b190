import { describe, expect, it } from 'vitest';
import { formatBackfill, formatSummary } from '../../../../infra/local/cli/format.js';
import type { BackfillSummary, RunSummary } from '../../../../infra/local/run-summary.js';

const day: RunSummary = {
  chartId: 'global',
  chartDate: '2026-11-21',
  runId: '20261121T060000000Z-aaaa0001',
  loadId: null,
  status: 'not_loaded',
  reason: 'the day never completed: 200 track(s) wait for a provider, next attempt in 24 h',
  openBreakers: [],
  missing: { notFound: 0, withoutFeatures: 0, byKind: { quota: 200, provider_error: 0, not_found: 0 } },
  rows: { stage: {}, marts: {}, chartEntriesThisDay: 0 },
  top: [],
  requests: { reccobeats: 3 },
  checks: { passed: 0, failed: [] },
  deadLettered: [],
  skipped: [],
  quarantined: [],
  failedInvocations: [],
  dbtMessage: null,
  spotifyAccess: 'none',
  // A daily quota's end, as a provider's Retry-After gave it.
  backlog: { tracks: 200, until: '2026-11-22T05:59:59.000Z' },
  timingsMs: { extract: 0, enrich: 0, load: 0, checks: 0, dbt: 0 },
};

describe('Function: run summaries tell waits humanly', () => {
  it("prints a day's backlog wait in hours, not in milliseconds or seconds, and its not-loaded reason", () => {
    const text = formatSummary(day);

    expect(text).toContain(
      '200 track(s) kept in the lake to ask again after 2026-11-22T05:59:59.000Z (a quota)',
    );
    expect(text).not.toMatch(/86399/);
    expect(text).toContain(`  reason          ${day.reason}`);
  });

  it("prints a backfill's backlog and its quota's end", () => {
    const backfill = {
      batchId: 'b',
      status: 'not_loaded',
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
      backlog: { tracks: 3, until: '2026-11-21T06:03:20.000Z' },
      openBreakers: [],
      timingsMs: { total: 0, load: 0, fetch: 0, enrich: 0, stageLoad: 0, checks: 0, dbt: 0 },
      busyMs: { fetch: 0, enrich: 0, stageLoad: 0 },
    } satisfies BackfillSummary;

    expect(formatBackfill(backfill)).toContain(
      '3 track(s) kept in the lake to ask again after 2026-11-21T06:03:20.000Z',
    );
  });
});
