import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageTableNames } from '../../shared/records/stage-tables.js';
import { createTestDatabase, postgresAvailable } from '../support/services.js';
import { gatherReport } from '../../infra/local/report/report-data.js';
import { renderReport } from '../../infra/local/report/report-html.js';
import { sqlHelp } from '../../infra/local/cli/commands/sql.js';
import {
  badDayStage,
  day1,
  day1Stage,
  day2,
  day2Stage,
  dimArtistsAfterDay1,
  dimArtistsAfterDay2,
  dimAlbumsAfterDay2,
  bridgeAfterDay2,
  dimTracksAfterDay1,
  dimTracksAfterDay2,
  fctDay1,
  fctDay2,
  type ChartDay,
  type StageBatch,
} from './chart-days.js';
import { assertDbtInstalled, repoRoot, runDbt, type DbtResult } from './dbt-cli.js';
import {
  DuckDbTestWarehouse,
  PostgresTestWarehouse,
  type ReadRow,
  type TestWarehouse,
} from './test-warehouse.js';

// The marts' columns read back, loaded_at apart (it is the run's start time: checked on its own).
const martColumns = {
  fct_chart_entries: [
    'chart_id',
    'chart_date',
    'track_id',
    'position',
    'streams',
    'popularity',
    'previous_position',
    'positions_moved',
    'is_new_entry',
    'is_re_entry',
    'first_charted_date',
    'last_charted_date',
    'days_on_chart',
    'total_days_on_chart',
    'chart_run_number',
    'run_id',
  ],
  dim_tracks: [
    'track_id',
    'track_name',
    'album_id',
    'album_name',
    'album_type',
    'release_date',
    'release_date_precision',
    'duration_ms',
    'is_explicit',
    'isrc',
    'metadata_source',
    'metadata_as_of_date',
    'danceability',
    'energy',
    'speechiness',
    'acousticness',
    'instrumentalness',
    'liveness',
    'valence',
    'loudness',
    'tempo',
    'musical_key',
    'mode',
    'time_signature',
    'features_source',
    'features_as_of_date',
    'first_seen_date',
    'last_seen_date',
    'run_id',
  ],
  dim_artists: ['artist_id', 'artist_name', 'valid_from', 'valid_to', 'is_current', 'last_seen_date', 'run_id'],
  dim_albums: [
    'album_id',
    'album_name',
    'album_type',
    'release_date',
    'release_date_precision',
    'released_on',
    'metadata_as_of_date',
    'first_seen_date',
    'last_seen_date',
    'run_id',
  ],
  bridge_track_artists: [
    'track_id',
    'artist_position',
    'artist_id',
    'is_lead_artist',
    'credits_as_of_date',
    'run_id',
  ],
} as const;
type Mart = keyof typeof martColumns;

const martKeys: Record<Mart, string> = {
  fct_chart_entries: 'chart_id, chart_date, track_id',
  dim_tracks: 'track_id',
  dim_artists: 'artist_id, valid_from',
  dim_albums: 'album_id',
  bridge_track_artists: 'track_id, artist_position',
};

// Dates (<event>_date) and timestamps (<event>_at) are read as text, the same on every warehouse.
const readable = (column: string): string =>
  /(_date|_at|^valid_from|^valid_to|^released_on)$/.test(column) ? `cast(${column} as varchar) as ${column}` : column;

const readMart = (warehouse: TestWarehouse, mart: Mart): Promise<ReadRow[]> =>
  warehouse.query(
    `select ${martColumns[mart].map(readable).join(', ')} from marts.${mart} order by ${martKeys[mart]}`,
  );

const readMarts = async (warehouse: TestWarehouse) => ({
  fct_chart_entries: await readMart(warehouse, 'fct_chart_entries'),
  dim_tracks: await readMart(warehouse, 'dim_tracks'),
  dim_artists: await readMart(warehouse, 'dim_artists'),
  dim_albums: await readMart(warehouse, 'dim_albums'),
  bridge_track_artists: await readMart(warehouse, 'bridge_track_artists'),
});

/** loaded_at of every row of a mart, by the row's key. */
const readLoadedAt = async (warehouse: TestWarehouse, mart: Mart): Promise<Record<string, string>> => {
  const keys = martKeys[mart].split(', ');
  const rows = await warehouse.query(
    `select ${keys.map(readable).join(', ')}, cast(loaded_at as varchar) as loaded_at from marts.${mart}`,
  );
  return Object.fromEntries(
    rows.map((row) => [keys.map((k) => String(row[k])).join('|'), String(row.loaded_at)]),
  );
};

const byKeys = <T extends Record<string, unknown>>(rows: readonly T[], ...keys: (keyof T)[]): T[] =>
  [...rows].sort((a, b) => {
    for (const key of keys) {
      const order = String(a[key]).localeCompare(String(b[key]), 'en');
      if (order !== 0) return order;
    }
    return 0;
  });

const loadStage = async (warehouse: TestWarehouse, ...batches: StageBatch[]): Promise<void> => {
  await warehouse.emptyStage();
  for (const batch of batches) {
    for (const table of stageTableNames) await warehouse.insert(table, batch[table]);
  }
};

/** Rows of a rules test, its counts as numbers (PostgreSQL gives bigints as text). */
const numbered = (rows: ReadRow[]): ReadRow[] =>
  rows.map((r) => ({ rule: r.rule, failing_rows: Number(r.failing_rows) }));

/** The transform batch of a day built alone: named by the day's load, as the pipeline names it. */
const batchOf = (day: ChartDay): string => `load-${day.runId}`;

/**
 * The suite for one target: the real dbt binary against a real warehouse, day after day. The target
 * is read once its own beforeAll has made it (a temporary file, a fresh database).
 */
const describeTarget = (target: () => { warehouse: TestWarehouse; workDir: string }) => {
  let warehouse: TestWarehouse;
  let workDir: string;

  const build = async (day: ChartDay): Promise<DbtResult> => {
    // As the runner calls it: no --vars, the transform batch named in the environment.
    const result = await runDbt(['build', '--target', warehouse.target], {
      env: { ...warehouse.dbtEnv, CHARTFLOW_BATCH_ID: batchOf(day) },
      workDir,
    });
    console.info(
      `dbt build --target ${warehouse.target} (${day.date}): exit ${result.exitCode} in ${result.durationMs} ms`,
    );
    return result;
  };
  const expectBuildOk = async (day: ChartDay): Promise<void> => {
    const result = await build(day);
    expect(result.exitCode, result.output.slice(-4000)).toBe(0);
  };

  // What the tests after each step compare against.
  let afterDay1Fct: Record<string, string> = {};
  let afterDay2: Awaited<ReturnType<typeof readMarts>>;
  const afterDay2LoadedAt = {} as Record<Mart, Record<string, string>>;

  beforeAll(async () => {
    assertDbtInstalled();
    ({ warehouse, workDir } = target());
    await warehouse.reset();
  });

  it('builds day 1 from an empty warehouse', async () => {
    await loadStage(warehouse, day1Stage);
    await expectBuildOk(day1);

    const marts = await readMarts(warehouse);
    expect(marts.fct_chart_entries).toEqual(byKeys(fctDay1, 'chart_id', 'chart_date', 'track_id'));
    expect(marts.dim_tracks).toEqual(dimTracksAfterDay1);
    expect(marts.dim_artists).toEqual(dimArtistsAfterDay1);

    // Every row of the run carries the run's start, in UTC.
    const loadedAt = await readLoadedAt(warehouse, 'fct_chart_entries');
    const instants = new Set(Object.values(loadedAt));
    expect(instants.size).toBe(1);
    const startedAt = Date.parse(`${[...instants][0]!.replace(' ', 'T')}Z`);
    expect(Math.abs(Date.now() - startedAt)).toBeLessThan(10 * 60_000);
    afterDay1Fct = loadedAt;

    // Names come back exactly as they went in.
    const [hello] = await warehouse.query(`select track_name from marts.dim_tracks where track_id = 'trk1'`);
    expect(hello?.track_name).toBe('Hello, "World"\nsecond line 🎶');
  });

  it('builds day 2: an exit, an entry, a rename, a failed lookup; day 1 untouched', async () => {
    await loadStage(warehouse, day2Stage);
    await expectBuildOk(day2);

    const marts = await readMarts(warehouse);
    expect(marts.fct_chart_entries).toEqual(
      byKeys([...fctDay1, ...fctDay2], 'chart_id', 'chart_date', 'track_id'),
    );
    expect(marts.dim_tracks).toEqual(dimTracksAfterDay2);
    expect(marts.dim_artists).toEqual(byKeys(dimArtistsAfterDay2, 'artist_id', 'valid_from'));
    expect(marts.dim_albums).toEqual(dimAlbumsAfterDay2);
    expect(marts.bridge_track_artists).toEqual(bridgeAfterDay2);

    // Day 1's entries were not rewritten.
    const fctLoadedAt = await readLoadedAt(warehouse, 'fct_chart_entries');
    for (const [key, loadedAt] of Object.entries(afterDay1Fct)) expect(fctLoadedAt[key]).toBe(loadedAt);

    afterDay2 = marts;
    afterDay2LoadedAt.fct_chart_entries = fctLoadedAt;
    afterDay2LoadedAt.dim_tracks = await readLoadedAt(warehouse, 'dim_tracks');
    afterDay2LoadedAt.bridge_track_artists = await readLoadedAt(warehouse, 'bridge_track_artists');
  });

  it('replays day 1: the marts stay as they were, newer attributes and names win', async () => {
    await loadStage(warehouse, day1Stage);
    await expectBuildOk(day1);

    // f(f(x)) = f(x): everything but loaded_at is exactly as after day 2.
    expect(await readMarts(warehouse)).toEqual(afterDay2);
    const [shalom] = await warehouse.query(`select album_name from marts.dim_tracks where track_id = 'trk3'`);
    expect(shalom?.album_name).toBe('אלבום (Deluxe)');
    const [dee] = await warehouse.query(`select artist_name from marts.dim_artists where artist_id = 'art4' and is_current`);
    expect(dee?.artist_name).toBe('Dee Dee');

    // Only day 1's chart and what it mentions were rewritten.
    const fctLoadedAt = await readLoadedAt(warehouse, 'fct_chart_entries');
    for (const [key, loadedAt] of Object.entries(afterDay2LoadedAt.fct_chart_entries)) {
      if (key.includes(`|${day2.date}|`)) expect(fctLoadedAt[key]).toBe(loadedAt);
      else expect(fctLoadedAt[key]).not.toBe(loadedAt);
    }
    expect((await readLoadedAt(warehouse, 'dim_tracks')).trk4).toBe(afterDay2LoadedAt.dim_tracks.trk4);
    // (dim_artists is rebuilt whole from its snapshot by every run: its loaded_at always moves.)
    const bridgeLoadedAt = await readLoadedAt(warehouse, 'bridge_track_artists');
    expect(bridgeLoadedAt['trk4|1']).toBe(afterDay2LoadedAt.bridge_track_artists['trk4|1']);
    expect(bridgeLoadedAt['trk1|1']).not.toBe(afterDay2LoadedAt.bridge_track_artists['trk1|1']);
  });

  it('answers the analysts from the star: runs, longevity, new releases, the catalog comparison', async () => {
    const runs = await warehouse.query(
      `select track_id, chart_run_number, days_on_chart, peak_position, is_ongoing
       from marts.fct_chart_runs order by track_id`,
    );
    expect(runs).toEqual([
      { track_id: 'trk1', chart_run_number: 1, days_on_chart: 2, peak_position: 1, is_ongoing: true },
      { track_id: 'trk2', chart_run_number: 1, days_on_chart: 1, peak_position: 2, is_ongoing: true },
      { track_id: 'trk3', chart_run_number: 1, days_on_chart: 2, peak_position: 1, is_ongoing: true },
      { track_id: 'trk4', chart_run_number: 1, days_on_chart: 1, peak_position: 3, is_ongoing: true },
    ]);

    // Shalom (released 2024-02-14) and New Entry (March 2024) are new releases in ISO week 9.
    const newReleases = await warehouse.query(
      `select iso_year, iso_week, cast(iso_week_start_date as varchar) as week_start, week_rank, track_id,
              days_since_release, days_on_chart_in_week, best_position, lead_artist_name
       from marts.mart_new_releases_weekly order by week_rank`,
    );
    expect(newReleases).toEqual([
      {
        iso_year: 2024,
        iso_week: 9,
        week_start: '2024-02-26',
        week_rank: 1,
        track_id: 'trk3',
        days_since_release: 16,
        days_on_chart_in_week: 2,
        best_position: 1,
        lead_artist_name: 'Dee Dee',
      },
      {
        iso_year: 2024,
        iso_week: 9,
        week_start: '2024-02-26',
        week_rank: 2,
        track_id: 'trk4',
        days_since_release: 1,
        days_on_chart_in_week: 1,
        best_position: 3,
        lead_artist_name: 'Eve',
      },
    ]);

    const artistLongevity = await warehouse.query(
      `select artist_id, artist_name, tracks_charted, tracks_charted_as_lead, days_on_chart, track_days_on_chart
       from marts.mart_artist_longevity order by artist_id`,
    );
    expect(artistLongevity).toEqual([
      // Ana leads Hello World (2 days) and features on New Entry (day 2)
      {
        artist_id: 'art1',
        artist_name: 'Ana, "Bo"',
        tracks_charted: 2,
        tracks_charted_as_lead: 1,
        days_on_chart: 2,
        track_days_on_chart: 3,
      },
      {
        artist_id: 'art2',
        artist_name: 'محمد عبده',
        tracks_charted: 1,
        tracks_charted_as_lead: 0,
        days_on_chart: 2,
        track_days_on_chart: 2,
      },
      {
        artist_id: 'art4',
        artist_name: 'Dee Dee',
        tracks_charted: 1,
        tracks_charted_as_lead: 1,
        days_on_chart: 2,
        track_days_on_chart: 2,
      },
      {
        artist_id: 'art5',
        artist_name: 'Eve',
        tracks_charted: 1,
        tracks_charted_as_lead: 1,
        days_on_chart: 1,
        track_days_on_chart: 1,
      },
    ]);

    // Features per band: the top 10 holds 6 entries of 4 tracks, 4 entries with features.
    const [band] = await warehouse.query(
      `select position_band, entries, tracks, entries_with_features, avg_danceability, avg_tempo
       from marts.mart_features_by_position_band`,
    );
    expect(band).toEqual({
      position_band: '1-10',
      entries: 6,
      tracks: 4,
      entries_with_features: 4,
      avg_danceability: 0.605, // (0.81 × 2 + 0.4 × 2) / 4
      avg_tempo: 95.26, // (118.02 × 2 + 72.5 × 2) / 4
    });

    // Tables rebuilt whole by every run name the batch that rebuilt them: the last build replayed day 1.
    for (const table of ['dim_date', 'fct_chart_runs', 'mart_charting_vs_catalog']) {
      expect(await warehouse.query(`select distinct run_id from marts.${table}`)).toEqual([
        { run_id: batchOf(day1) },
      ]);
    }

    const catalog = await warehouse.query(
      `select catalog_group, tracks, tracks_with_features from marts.mart_charting_vs_catalog order by catalog_group`,
    );
    expect(catalog).toEqual([
      { catalog_group: 'charting', tracks: 4, tracks_with_features: 2 },
      { catalog_group: 'non_charting', tracks: 0, tracks_with_features: 0 },
    ]);
  });

  it("runs every example query of docs/warehouse.md, the README and chartflow sql --help", async () => {
    const doc = await readFile(path.join(repoRoot, 'docs', 'warehouse.md'), 'utf8');
    const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim().replace(/;$/, ''));
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const query of queries) {
      await expect(warehouse.query(query), query).resolves.toBeInstanceOf(Array);
    }
    // And the `chartflow sql` examples of the README and of the command's help.
    const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
    const examples = [...`${readme}\n${sqlHelp}`.matchAll(/chartflow sql (?:--format \w+ )?"([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const query of examples) {
      await expect(warehouse.query(query), query).resolves.toBeInstanceOf(Array);
    }
    // The ones that have something to say after two days say it.
    const [longest] = await warehouse.query(queries.find((q) => q.includes('from marts.mart_track_longevity'))!);
    expect(longest).toMatchObject({ total_days_on_chart: 2, peak_position: 1 });
  });

  it("answers every question of chartflow report, read-only, as it reads the marts of this warehouse", async () => {
    const reader = warehouse.reader();
    try {
      const report = await gatherReport({
        reader,
        scope: { chartId: 'global', from: '2024-02-01', to: '2024-03-02' },
        runs: [],
        now: new Date('2024-03-03T00:00:00Z'),
      });
      expect(report.lastDay).toBe('2024-03-02');
      expect(report.daysWithEntries).toBe(2);
      for (const section of ['chartNow', 'trajectories', 'longevity', 'features'] as const) {
        expect(report[section].kind, section).toBe('rows');
      }
      // The chart now is the marts' last day, top first, with the moves the fact table holds.
      const chartNow = report.chartNow.kind === 'rows' ? report.chartNow.rows : [];
      const lastDay = await warehouse.query(
        `select position, days_on_chart from marts.fct_chart_entries
         where chart_id = 'global' and chart_date = cast('2024-03-02' as date) order by position`,
      );
      expect(chartNow.map((r) => [r.position, r.days_on_chart])).toEqual(
        lastDay.map((r) => [r.position, r.days_on_chart]),
      );
      // Every trajectory point is an entry of the period.
      const points = report.trajectories.kind === 'rows' ? report.trajectories.rows : [];
      expect(points.length).toBeGreaterThan(0);
      expect(new Set(points.map((p) => p.chart_date))).toEqual(new Set(['2024-03-01', '2024-03-02']));
      // A period with no entries says so; the HTML of both renders without a chart left unregistered.
      const none = await gatherReport({
        reader,
        scope: { chartId: 'global', from: '2023-01-01', to: '2023-01-31' },
        runs: [],
        now: new Date('2024-03-03T00:00:00Z'),
      });
      expect(none.chartNow).toMatchObject({ kind: 'empty', why: expect.stringMatching(/has no entries/) });
      for (const data of [report, none]) {
        const html = renderReport(data, { scripts: [] });
        const containers = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
        const specs = JSON.parse(/<script type="application\/json" id="chart-specs">(.*?)<\/script>/s.exec(html)![1]!);
        expect(Object.keys(specs).sort()).toEqual([...containers].sort());
      }
    } finally {
      await reader.close();
    }
  });

  it('builds an ISO 8601 calendar', async () => {
    const days = await warehouse.query(
      `select cast(date_day as varchar) as day, year_number, quarter_number, month_name, iso_year, iso_week,
              cast(iso_week_start_date as varchar) as week_start, iso_day_of_week, day_name, is_weekend
       from marts.dim_date
       where date_day in (cast('2021-01-03' as date), cast('2024-12-30' as date), cast('2026-11-22' as date))
       order by date_day`,
    );
    expect(days).toEqual([
      // a Sunday that still belongs to 2020's week 53
      {
        day: '2021-01-03',
        year_number: 2021,
        quarter_number: 1,
        month_name: 'January',
        iso_year: 2020,
        iso_week: 53,
        week_start: '2020-12-28',
        iso_day_of_week: 7,
        day_name: 'Sunday',
        is_weekend: true,
      },
      // a Monday that starts 2025's week 1
      {
        day: '2024-12-30',
        year_number: 2024,
        quarter_number: 4,
        month_name: 'December',
        iso_year: 2025,
        iso_week: 1,
        week_start: '2024-12-30',
        iso_day_of_week: 1,
        day_name: 'Monday',
        is_weekend: false,
      },
      {
        day: '2026-11-22',
        year_number: 2026,
        quarter_number: 4,
        month_name: 'November',
        iso_year: 2026,
        iso_week: 47,
        week_start: '2026-11-16',
        iso_day_of_week: 7,
        day_name: 'Sunday',
        is_weekend: true,
      },
    ]);
    const [count] = await warehouse.query(`select count(*) as days from marts.dim_date`);
    expect(Number(count?.days)).toBe(7670); // 2015-01-01 .. 2035-12-31: 21 years, 5 of them leap
  });

  it('fails the build, and leaves the marts alone, when the stage breaks a test', async () => {
    await loadStage(warehouse, badDayStage);
    const result = await build({
      date: '2024-03-03',
      runId: 'run-day-3',
      extractedAt: '2024-03-03 06:00:00',
    });

    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('Failure in test stg_stage__chart_songs_rules');
    expect(await readMarts(warehouse)).toEqual(afterDay2);
    // The failed test's own query names the rule the stage broke (dbt/tests/generic/rules.sql).
    const compiled = await readFile(
      path.join(workDir, 'target', 'compiled', 'chartflow', 'models', 'staging', 'stage', '_staging__models.yml', 'stg_stage__chart_songs_rules.sql'),
      'utf8',
    );
    expect(numbered(await warehouse.query(compiled))).toEqual([
      { rule: 'accepted_range(position >= 1)', failing_rows: 1 },
    ]);
  });

  it('fails each rule of a rules test on exactly the rows that break it, and names it', async () => {
    await warehouse.query('drop table if exists stage.rules_probe');
    await warehouse.query(
      'create table stage.rules_probe (id integer, k varchar(8), score integer, kind varchar(8))',
    );
    await warehouse.query(`insert into stage.rules_probe values
      (1, 'a', 5, 'x'), (null, 'a', 200, 'zz'), (3, 'b', -1, null), (4, null, null, 'y'),
      (5, 'b', null, null), (6, '${dimTracksAfterDay2[0]!.track_id}', 100, 'y')`);
    const rules = [
      "model=api.Relation.create(schema='stage', identifier='rules_probe')",
      "not_null=['id']",
      "unique=['k', ['k', 'kind'], 'id']",
      "accepted_range={'score': {'min_value': 0, 'max_value': 100}, 'id': {'min_value': 1}}",
      "accepted_values={'kind': ['x', 'y']}",
      "relationships={'k': {'to': 'dim_tracks', 'field': 'track_id'}}",
    ];
    const compiled = await runDbt(
      ['compile', '--quiet', '--target', warehouse.target, '--inline', `{{ test_rules(${rules.join(', ')}) }}`],
      { env: warehouse.dbtEnv, workDir },
    );
    expect(compiled.exitCode, compiled.output.slice(-4000)).toBe(0);
    const failing = numbered(await warehouse.query(compiled.output));
    // Nulls pass every rule but not_null, and a combination counts nulls as values, as the tests
    // this one replaced did (dbt's unique and relationships, the project's accepted_range).
    expect(failing.sort((a, b) => (String(a.rule) < String(b.rule) ? -1 : 1))).toEqual([
      { rule: 'accepted_range(score >= 0, score <= 100)', failing_rows: 2 },
      { rule: 'accepted_values(kind)', failing_rows: 1 },
      { rule: 'not_null(id)', failing_rows: 1 },
      { rule: 'relationships(k to dim_tracks.track_id)', failing_rows: 4 },
      { rule: 'unique(k)', failing_rows: 2 },
      { rule: 'unique(k, kind)', failing_rows: 1 },
    ]);
    await warehouse.query('drop table stage.rules_probe');
  });

  it('gives the same marts from both days in one batch, and from the days in reverse order', async () => {
    await warehouse.reset();
    await loadStage(warehouse, day2Stage, day1Stage);
    await expectBuildOk(day2);
    expect(await readMarts(warehouse)).toEqual(afterDay2);

    await warehouse.reset();
    await loadStage(warehouse, day2Stage);
    await expectBuildOk(day2);
    await loadStage(warehouse, day1Stage);
    await expectBuildOk(day1);
    expect(await readMarts(warehouse)).toEqual(afterDay2);
  });
};

// In CI a missing server fails here; elsewhere the PostgreSQL suite is skipped, with the reason.
const postgresUp = await postgresAvailable();

describe('dbt project', () => {
  describe('target: duckdb', () => {
    let workDir = '';
    const warehouse = new DuckDbTestWarehouse(
      path.join(tmpdir(), `chartflow-dbt-${process.pid}-${Date.now()}.duckdb`),
    );

    beforeAll(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-duckdb-'));
    });
    afterAll(async () => {
      await rm(workDir, { recursive: true, force: true });
      for (const suffix of ['', '.wal']) {
        await rm(`${warehouse.dbtEnv.CHARTFLOW_DUCKDB_PATH}${suffix}`, { force: true });
      }
    });

    describeTarget(() => ({ warehouse, workDir }));

    it('generates the docs offline', async () => {
      const result = await runDbt(['docs', 'generate', '--target', 'duckdb'], {
        env: warehouse.dbtEnv,
        workDir,
      });
      expect(result.exitCode, result.output.slice(-4000)).toBe(0);
      expect((await stat(path.join(workDir, 'target', 'catalog.json'))).isFile()).toBe(true);
    });
  });

  // A database of its own: the schema names are fixed, so no other test file may share it.
  describe.skipIf(!postgresUp)('target: postgres', () => {
    let workDir = '';
    let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let warehouse: PostgresTestWarehouse;

    beforeAll(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-postgres-'));
      database = await createTestDatabase('dbt_project');
      warehouse = new PostgresTestWarehouse(database.url);
    });
    afterAll(async () => {
      await database?.drop();
      await rm(workDir, { recursive: true, force: true });
    });

    describeTarget(() => ({ warehouse, workDir }));
  });
});
