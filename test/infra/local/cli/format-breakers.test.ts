import { describe, expect, it } from 'vitest';
import { formatBackfill, formatSummary } from '../../../../infra/local/cli/format.js';
import type { RunSummary } from '../../../../infra/local/run-summary.js';
import { backfillSummary, runSummary } from '../../../support/summaries.js';

const openBreakers: RunSummary['openBreakers'] = [
  {
    endpoint: 'spotify GET /v1/tracks',
    reason: 'open after 5 failures',
    lastError: 'HTTP 503',
    openedAt: '2026-09-14T06:31:00.000Z',
  },
  {
    endpoint: 'reccobeats GET /v1/track',
    reason: 'spent its 180 s',
    lastError: 'the answer is not JSON',
    openedAt: '2026-09-14T06:34:00.000Z',
  },
];

const day = runSummary({
  rows: { stage: { chart_songs: 200 }, marts: { fct_chart_entries: 200 }, chartEntriesThisDay: 200 },
  requests: { spotify: 40 },
  checks: { passed: 3, failed: [] },
  spotifyAccess: 'extended',
  openBreakers,
});

const backfill = backfillSummary({ loads: 1, spotifyAccess: 'extended', openBreakers });

const expected = [
  '  switched off    spotify GET /v1/tracks: open after 5 failures; last error: HTTP 503',
  '  switched off    reccobeats GET /v1/track: spent its 180 s; last error: the answer is not JSON',
];

describe('The summaries as a person reads them: open breakers', () => {
  it('lists each open breaker of a day, with its endpoint, why and its last error', () => {
    const lines = formatSummary(day).split('\n');
    expect(lines.filter((l) => l.startsWith('  switched off'))).toEqual(expected);
    expect(formatSummary({ ...day, openBreakers: [] })).not.toContain('switched off');
  });

  it('lists them for a backfill too', () => {
    expect(
      formatBackfill(backfill)
        .split('\n')
        .filter((l) => l.startsWith('  switched off')),
    ).toEqual(expected);
  });
});
