import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { MissingBacklog } from '../../shared/lake/backlog.js';
import { startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { attributeRowsOf } from '../support/provenance.js';

const chartDate = '2026-10-20';

describe('Invariant 4, end to end: a track whose lookup keeps failing is recorded as missing and named, never dropped', () => {
  let t: TestPipeline;
  let poison: string;
  let summary: RunSummary;

  beforeAll(async () => {
    t = await startTestPipeline({
      label: 'nothing-lost',
      // Far longer than a batch that bisects around the poison id, even on a busy machine, or SQS
      // semantics would redeliver the whole batch while it is being worked on.
      queue: { visibilityTimeoutMs: 60_000, maxReceiveCount: 3 },
      retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20, maxInlineWaitMs: 1_000 },
    });
    poison = t.pipeline.sandbox!.catalog.chartFor('global', chartDate)[7]!;
    // Every source of its attributes fails for it, so no fallback can fill in.
    t.pipeline.sandbox!.faults.failTrackLookups([poison]);
    t.pipeline.sandbox!.faults.failTrackLookups([poison], { provider: 'reccobeats' });
    summary = await t.pipeline.run({ chartId: 'global', chartDate });
  });
  afterAll(() => t?.stop());

  it('keeps the track out of the dead-letter queue: a provider failing is no malformed message', () => {
    expect(t.pipeline.deadLetters.peek()).toEqual([]);
    expect(summary.deadLettered).toEqual([]);
  });

  it('names the track and its reason in its row, the summary and the backlog', async () => {
    const rows = await attributeRowsOf(t.pipeline, summary);
    expect(rows.get(poison)).toMatchObject({
      enrichment_status: 'missing',
      missing_reason: expect.stringMatching(/^provider_error: spotify tracks: .*HTTP 500/),
    });
    expect(summary.missing.byKind.provider_error).toBe(1);
    expect(summary.backlog).toEqual({ tracks: 1, until: null });
    const backlog = await new MissingBacklog(t.pipeline.store).list({ chartDate, chartId: 'global' });
    expect(backlog.map((e) => [e.trackId, e.gaps.map((g) => `${g.group} ${g.kind}`)])).toEqual([
      [poison, ['metadata provider_error', 'popularity provider_error']],
    ]);
  });

  it('still completes the day, with the track charted and its missing attributes explained', async () => {
    expect(summary.status).toBe('succeeded');
    const size = t.pipeline.sandbox!.catalog.chartFor('global', chartDate).length;
    expect(summary.rows.chartEntriesThisDay).toBe(size);
    const [fact] = await t.pipeline.warehouse.query<{ position: number }>(
      'select position from marts.fct_chart_entries where track_id = :id',
      { id: poison },
    );
    expect(fact?.position).toBe(8);
  });

  it('isolates the poison id: its neighbours in the same batch are enriched', async () => {
    const rows = await t.pipeline.warehouse.query<{ track_id: string; track_name: string }>(
      'select track_id, track_name from marts.dim_tracks where metadata_source is null',
    );
    // Only the poison track lacks metadata; its name is the chart's spelling.
    expect(rows).toEqual([{ track_id: poison, track_name: t.pipeline.sandbox!.catalog.track(poison)!.name }]);
  });
});
