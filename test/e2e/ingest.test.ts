import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { Catalog } from '../../infra/sandbox/catalog.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { martSnapshot, startTestPipeline, stageRows, type TestPipeline } from '../support/pipeline.js';
import {
  currentChartsCsv,
  legacyChartsCsv,
  sandboxChartRows,
  type ChartsCsvRowSpec,
} from '../services/chart-fetch/sources/spotify-charts-csv-files.js';

const currentDay = '2026-09-10';
const legacyDay = '2026-09-11';

/** The sandbox's global chart of a day, as a Spotify Charts file would list it, with streams. */
const chartRows = (catalog: Catalog, date: string): ChartsCsvRowSpec[] =>
  sandboxChartRows(catalog, 'global', date, { topStreams: 4_000_000, step: 13_577 });

const entriesOf = (t: TestPipeline, chartDate: string) =>
  t.pipeline.warehouse.query<{ position: number; track_id: string; streams: bigint | number | null }>(
    `select position, track_id, streams from marts.fct_chart_entries
     where chart_id = 'global-daily' and chart_date = cast(:d as date) order by position`,
    { d: chartDate },
  );

describe('End to end: Spotify Charts CSV files dropped into the inbox', () => {
  let t: TestPipeline;
  let currentRows: ChartsCsvRowSpec[];
  let legacyRows: ChartsCsvRowSpec[];
  let currentBody: Buffer;
  let summaries: RunSummary[];

  beforeAll(async () => {
    t = await startTestPipeline({ label: 'e2e-ingest' });
    const catalog = t.pipeline.sandbox!.catalog;
    currentRows = chartRows(catalog, currentDay);
    currentBody = Buffer.from(currentChartsCsv(currentRows, { eol: '\r\n' }), 'utf8');
    // The older format, under its note line, with one row that has lost its track URL.
    legacyRows = chartRows(catalog, legacyDay);
    const broken = legacyRows.map((row, i) =>
      i === 4 ? { ...row, link: 'https://open.spotify.com/' } : row,
    );
    summaries = await t.pipeline.ingest([
      { name: `regional-global-daily-${currentDay}.csv`, body: currentBody },
      { name: `regional-global-daily-${legacyDay}.csv`, body: Buffer.from(legacyChartsCsv(broken), 'utf8') },
    ]);
  });
  afterAll(() => t?.stop());

  it('runs each file as a day of its chart, through checks and dbt, to success', () => {
    expect(summaries.map((s) => [s.chartId, s.chartDate, s.status])).toEqual([
      ['global-daily', currentDay, 'succeeded'],
      ['global-daily', legacyDay, 'succeeded'],
    ]);
    for (const summary of summaries) {
      expect(summary.checks.failed).toEqual([]);
      expect(summary.failedInvocations).toEqual([]);
      expect(summary.deadLettered).toEqual([]);
    }
    expect(summaries[0]!.rows.chartEntriesThisDay).toBe(currentRows.length);
    expect(summaries[0]!.quarantined).toEqual([]);
  });

  it("puts the file's positions and streams in marts.fct_chart_entries", async () => {
    const entries = await entriesOf(t, currentDay);

    expect(entries.map((e) => [Number(e.position), e.track_id, Number(e.streams)])).toEqual(
      currentRows.map((row, i) => [i + 1, row.trackId, row.streams]),
    );
  });

  it('keeps every name of the file exactly as written in the lake', async () => {
    const body = await t.pipeline.store.get(lakeKeys.chartCsv(currentDay, 'global-daily'));
    const chart = fromStageCsv('chart_songs', body!.toString('utf8'));

    expect(chart.map((r) => [r.track_name, r.artist_names])).toEqual(
      currentRows.map((r) => [r.trackName, r.artistNames]),
    );
    expect(new Set(chart.map((r) => r.source))).toEqual(
      new Set([`spotify-charts-csv:regional-global-daily-${currentDay}.csv`]),
    );
    // The sandbox charts names that break naive CSV every day.
    expect(chart.some((r) => r.track_name!.includes('\n'))).toBe(true);
    expect(chart.some((r) => r.track_name!.includes('"'))).toBe(true);
  });

  it('keeps the CSV file as received next to the normalized files', async () => {
    const keys = await t.pipeline.store.list(`raw/chart_songs/date=${currentDay}/chart=global-daily/`);

    expect(keys.map((o) => o.key.split('/').at(-1))).toEqual(['manifest.json', 'source-file.csv']);
    expect(await t.pipeline.store.get(lakeKeys.chartCsv(currentDay, 'global-daily'))).toBeDefined();
    expect(await t.pipeline.store.get(lakeKeys.chartSourceFile(currentDay, 'global-daily'))).toEqual(
      currentBody,
    );
  });

  it('loads the older-format file too, its bad row quarantined and the rest at positions 1..N', async () => {
    const summary = summaries[1]!;
    expect(summary.rows.chartEntriesThisDay).toBe(legacyRows.length - 1);
    expect(summary.quarantined).toEqual([
      {
        key: expect.stringMatching(
          /^quarantine\/chart_songs\/date=2026-09-11\/chart=global-daily\/.*-position-5\.json$/,
        ),
        reason: 'invalid row: URL: not an https://open.spotify.com/track/<22-character id> URL',
      },
    ]);
    // The summary also lists what the source skipped, from the run's manifest.
    expect(summary.skipped).toEqual([
      {
        position: 5,
        reason: 'invalid row: URL: not an https://open.spotify.com/track/<22-character id> URL',
      },
    ]);
    expect(summaries[0]!.skipped).toEqual([]);
    const entries = await entriesOf(t, legacyDay);
    const kept = legacyRows.filter((_, i) => i !== 4);
    expect(entries.map((e) => [Number(e.position), e.track_id, Number(e.streams)])).toEqual(
      kept.map((row, i) => [i + 1, row.trackId, row.streams]),
    );
  });

  it('leaves the first day as it was, and the stage empty', async () => {
    expect((await entriesOf(t, currentDay)).length).toBe(currentRows.length);
    expect(await stageRows(t.pipeline.warehouse)).toBe(0);
  });

  it('leaves the marts as they were when the same file is dropped again (invariant 1)', async () => {
    const before = await martSnapshot(t.pipeline.warehouse);

    const [again] = await t.pipeline.ingest([
      { name: `regional-global-daily-${currentDay}.csv`, body: currentBody },
    ]);

    expect(again).toMatchObject({ chartDate: currentDay, status: 'succeeded' });
    expect(again!.runId).not.toBe(summaries[0]!.runId);
    expect(await martSnapshot(t.pipeline.warehouse)).toEqual(before);
  });
});
