import { describe, expect, it } from 'vitest';
import { formatBackfill, formatSummary } from '../../../../infra/local/cli/format.js';
import { backfillSummary, runSummary } from '../../../support/summaries.js';

const day = runSummary({
  chartDate: '2026-11-21',
  runId: '20261121T060000000Z-aaaa0001',
  loadId: null,
  status: 'not_loaded',
  reason: 'the day never completed: 200 track(s) wait for a provider, next attempt in 24 h',
  missing: { notFound: 0, withoutFeatures: 0, byKind: { quota: 200, provider_error: 0, not_found: 0 } },
  requests: { reccobeats: 3 },
  // A daily quota's end, as a provider's Retry-After gave it.
  backlog: { tracks: 200, until: '2026-11-22T05:59:59.000Z' },
});

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
    const backfill = backfillSummary({
      batchId: 'b',
      status: 'not_loaded',
      backlog: { tracks: 3, until: '2026-11-21T06:03:20.000Z' },
    });

    expect(formatBackfill(backfill)).toContain(
      '3 track(s) kept in the lake to ask again after 2026-11-21T06:03:20.000Z',
    );
  });
});
