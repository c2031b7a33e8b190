import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { main } from '../../../../infra/local/cli/main.js';
import { createCatalog, sandboxCatalogSamplePlaylistId } from '../../../../infra/sandbox/index.js';

/**
 * `chartflow run --chart catalog-sample` in sandbox mode: the non-charting catalog goes through
 * the whole pipeline as a pseudo-chart, on a throwaway CHARTFLOW_HOME. Two consecutive days, so
 * that the second shows the stable membership keeping a warm day cheap.
 */
describe('Function: chartflow run --chart catalog-sample, end to end on the sandbox', () => {
  const days = ['2026-08-01', '2026-08-02'] as const;
  const catalog = createCatalog();
  let home: string;
  const out: string[] = [];
  const notes: string[] = [];
  const codes: number[] = [];

  const run = (date: string) =>
    main(['node', 'chartflow', 'run', '--date', date, '--chart', 'catalog-sample', '--json'], {
      config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
      clock: systemClock,
      processEnv: process.env,
      out: (t) => out.push(t),
      note: (t) => notes.push(t),
    });

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-catalog-sample-'));
    for (const day of days) codes.push(await run(day));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('runs the day from the catalog sample playlist and succeeds', async () => {
    expect(codes).toEqual([0, 0]);
    expect(out).toHaveLength(2);
    const sample = catalog.catalogSampleFor(days[0]);
    expect(sample.length).toBeGreaterThan(50);
    const summary = JSON.parse(out[0]!);
    expect(summary).toMatchObject({
      chartId: 'catalog-sample',
      chartDate: days[0],
      status: 'succeeded',
      rows: { stage: { chart_songs: sample.length, song_attributes: sample.length } },
      checks: { failed: [] },
      deadLettered: [],
      quarantined: [],
      skipped: [],
    });
    expect(notes.join('\n')).toMatch(/running catalog-sample 2026-08-01/);

    // The lake holds it under its own chart partition, read from the sample's playlist, in order.
    const manifest = JSON.parse(
      await readFile(path.join(home, 'lake', lakeKeys.manifest(days[0], 'catalog-sample')), 'utf8'),
    );
    expect(manifest.trackIds).toEqual(sample);
    expect(manifest.source).toBe(`sandbox-playlist:${sandboxCatalogSamplePlaylistId}`);
  });

  it('keeps the sample out of the chart fact: fct_catalog_samples, and the non-charting group of the comparison', async () => {
    const instance = await DuckDBInstance.create(path.join(home, 'warehouse.duckdb'), {
      access_mode: 'READ_ONLY',
    });
    const connection = await instance.connect();
    const count = async (sql: string) =>
      Number((await connection.runAndReadAll(sql)).getRowObjectsJS()[0]?.n ?? -1);
    try {
      const samples = days.map((d) => catalog.catalogSampleFor(d));
      expect(await count(`select count(*) as n from marts.fct_chart_entries`)).toBe(0);
      expect(
        await count(`select count(*) as n from marts.fct_catalog_samples where chart_id = 'catalog-sample'`),
      ).toBe(samples[0]!.length + samples[1]!.length);
      // Nothing charted, so every sampled track is in the non-charting group, and none in the other.
      const groups = (
        await connection.runAndReadAll(
          `select catalog_group, tracks from marts.mart_charting_vs_catalog order by catalog_group`,
        )
      ).getRowObjectsJS();
      expect(groups).toEqual([
        { catalog_group: 'charting', tracks: 0 },
        { catalog_group: 'non_charting', tracks: new Set(samples.flat()).size },
      ]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('costs a warm day little: the sample barely changes, so only popularity is asked again', () => {
    const [before, after] = days.map((d) => catalog.catalogSampleFor(d)) as [
      readonly string[],
      readonly string[],
    ];
    const fresh = after.filter((id) => !before.includes(id)).length;
    const summary = JSON.parse(out[1]!);
    expect(summary).toMatchObject({ chartId: 'catalog-sample', chartDate: days[1], status: 'succeeded' });
    // A token, the playlist's pages and the day's popularity (50 ids a call each), audio features
    // for the few new tracks, and one request to spare.
    const pages = Math.ceil(after.length / 50);
    expect(summary.requests.spotify).toBeLessThanOrEqual(1 + pages + pages + (fresh > 0 ? 1 : 0) + 1);
  });
});
