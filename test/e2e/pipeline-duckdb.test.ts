import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { startTestPipeline, stageRows, type TestPipeline } from '../support/pipeline.js';

const chartDate = '2026-11-01';

describe('End to end: one sandbox day on DuckDB', () => {
  let t: TestPipeline;
  let summary: RunSummary;

  beforeAll(async () => {
    t = await startTestPipeline({ label: 'e2e-duckdb' });
    summary = await t.pipeline.run({ chartId: 'global', chartDate });
  });
  afterAll(() => t?.stop());

  it('runs the day through checks and dbt to success', () => {
    expect(summary.status).toBe('succeeded');
    expect(summary.checks.failed).toEqual([]);
    expect(summary.checks.passed).toBeGreaterThanOrEqual(10);
    expect(summary.failedInvocations).toEqual([]);
    expect(summary.deadLettered).toEqual([]);
  });

  it('loads the whole chart and puts it in the star', () => {
    const size = t.pipeline.sandbox!.catalog.chartFor('global', chartDate).length;
    expect(summary.rows.stage.chart_songs).toBe(size);
    expect(summary.rows.stage.song_attributes).toBe(size);
    expect(summary.rows.chartEntriesThisDay).toBe(size);
    expect(summary.rows.marts.fct_chart_entries).toBe(size);
    expect(summary.rows.marts.dim_tracks).toBe(size);
  });

  it('counts the HTTP requests it made to each provider, as the sandbox counted them, with multi-id lookups', () => {
    const served = t.pipeline.sandbox!.stats.snapshot().byProvider;
    expect(summary.requests.spotify).toBe(served.spotify.requests);
    expect(summary.requests.reccobeats ?? 0).toBe(served.reccobeats.requests);
    // 200 tracks, all new, one batch: a token, 4 playlist pages, 4 tracks calls (50 ids), 2 audio-features calls (100 ids).
    expect(summary.requests.spotify).toBe(1 + 4 + 4 + 2);
  });

  it('keeps every chart position and every name exactly as the source gave them', async () => {
    const expected = t.pipeline.sandbox!.catalog.chartFor('global', chartDate);
    const rows = await t.pipeline.warehouse.query<{ track_id: string; position: number; track_name: string }>(
      `select f.track_id, f.position, d.track_name from marts.fct_chart_entries f
       join marts.dim_tracks d on d.track_id = f.track_id
       where f.chart_date = cast(:d as date) order by f.position`,
      { d: chartDate },
    );
    expect(rows.map((r) => r.track_id)).toEqual(expected);
    const names = rows.map((r) => t.pipeline.sandbox!.catalog.track(r.track_id)?.name);
    expect(rows.map((r) => r.track_name)).toEqual(names);
    // The sandbox puts names that break naive CSV on the chart every day.
    expect(rows.some((r) => r.track_name.includes(','))).toBe(true);
    expect(rows.some((r) => r.track_name.includes('"'))).toBe(true);
    expect(rows.some((r) => r.track_name.includes('\n'))).toBe(true);
  });

  it("keeps dbt's compiled Jinja templates in the home, for the next process's build", () => {
    expect(existsSync(path.join(t.home, 'dbt', 'jinja-code.marshal'))).toBe(true);
  });

  it('leaves the stage empty (invariant 3, success)', async () => {
    expect(await stageRows(t.pipeline.warehouse)).toBe(0);
  });

  it('keeps the raw answers in the lake next to the normalized files', async () => {
    const keys = (await t.pipeline.store.list(`raw/chart_songs/date=${chartDate}/chart=global/`)).map(
      (o) => o.key,
    );
    expect(keys.map((k) => k.split('/').at(-1))).toEqual(['manifest.json', 'source-response.json']);
    const parts = (await t.pipeline.store.list(`raw/song_attributes/date=${chartDate}/chart=global/`)).map(
      (o) => o.key,
    );
    const answers = parts.filter((k) => k.endsWith('.response.json'));
    expect(answers.length).toBeGreaterThan(0);
    // The normalized files, each dataset in a folder of its own (docs/architecture.md, "Key layout").
    const tables = (await t.pipeline.store.list('tables/')).map((o) => o.key);
    expect(tables).toContain(`tables/chart_songs/date=${chartDate}/chart=global/chart_songs.csv`);
    for (const answer of answers) {
      const part = answer.split('/').at(-1)!.replace('.response.json', '');
      expect(tables).toContain(`tables/song_attributes/date=${chartDate}/chart=global/${part}.csv`);
      expect(tables).toContain(`tables/song_artists/date=${chartDate}/chart=global/${part}.csv`);
    }
  });
});
