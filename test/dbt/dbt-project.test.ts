import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageTableNames } from '../../shared/records/stage-tables.js';
import { createTestDatabase, postgresAvailable } from '../support/services.js';
import {
  badDayStage,
  chartId,
  day1,
  day1Stage,
  day2,
  day2Stage,
  dimArtistsAfterDay1,
  dimArtistsAfterDay2,
  dimTracksAfterDay1,
  dimTracksAfterDay2,
  fctDay1,
  fctDay2,
  type ChartDay,
  type StageBatch,
} from './chart-days.js';
import { assertDbtInstalled, runDbt, type DbtResult } from './dbt-cli.js';
import {
  DuckDbTestWarehouse,
  PostgresTestWarehouse,
  type ReadRow,
  type TestWarehouse,
} from './test-warehouse.js';

// The marts' columns read back, loaded_at apart (it is the run's start time: checked on its own).
const martColumns = {
  fct_chart_entries: ['chart_id', 'chart_date', 'track_id', 'position', 'streams', 'popularity', 'run_id'],
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
  dim_artists: ['artist_id', 'artist_name', 'first_seen_date', 'last_seen_date', 'run_id'],
} as const;
type Mart = keyof typeof martColumns;

const martKeys: Record<Mart, string> = {
  fct_chart_entries: 'chart_id, chart_date, track_id',
  dim_tracks: 'track_id',
  dim_artists: 'artist_id',
};

// Dates (<event>_date) and timestamps (<event>_at) are read as text, the same on every warehouse.
const readable = (column: string): string =>
  /_(date|at)$/.test(column) ? `cast(${column} as varchar) as ${column}` : column;

const readMart = (warehouse: TestWarehouse, mart: Mart): Promise<ReadRow[]> =>
  warehouse.query(
    `select ${martColumns[mart].map(readable).join(', ')} from marts.${mart} order by ${martKeys[mart]}`,
  );

const readMarts = async (warehouse: TestWarehouse) => ({
  fct_chart_entries: await readMart(warehouse, 'fct_chart_entries'),
  dim_tracks: await readMart(warehouse, 'dim_tracks'),
  dim_artists: await readMart(warehouse, 'dim_artists'),
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

const runVars = (day: ChartDay): string =>
  JSON.stringify({
    run_id: day.runId,
    load_id: `load-${day.runId}`,
    chart_id: chartId,
    chart_date: day.date,
  });

/**
 * The suite for one target: the real dbt binary against a real warehouse, day after day. The target
 * is read once its own beforeAll has made it (a temporary file, a fresh database).
 */
const describeTarget = (target: () => { warehouse: TestWarehouse; workDir: string }) => {
  let warehouse: TestWarehouse;
  let workDir: string;

  const build = async (day: ChartDay): Promise<DbtResult> => {
    const result = await runDbt(['build', '--target', warehouse.target, '--vars', runVars(day)], {
      env: warehouse.dbtEnv,
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
    expect(marts.dim_artists).toEqual(dimArtistsAfterDay2);

    // Day 1's entries were not rewritten.
    const fctLoadedAt = await readLoadedAt(warehouse, 'fct_chart_entries');
    for (const [key, loadedAt] of Object.entries(afterDay1Fct)) expect(fctLoadedAt[key]).toBe(loadedAt);

    afterDay2 = marts;
    afterDay2LoadedAt.fct_chart_entries = fctLoadedAt;
    afterDay2LoadedAt.dim_tracks = await readLoadedAt(warehouse, 'dim_tracks');
    afterDay2LoadedAt.dim_artists = await readLoadedAt(warehouse, 'dim_artists');
  });

  it('replays day 1: the marts stay as they were, newer attributes and names win', async () => {
    await loadStage(warehouse, day1Stage);
    await expectBuildOk(day1);

    // f(f(x)) = f(x): everything but loaded_at is exactly as after day 2.
    expect(await readMarts(warehouse)).toEqual(afterDay2);
    const [shalom] = await warehouse.query(`select album_name from marts.dim_tracks where track_id = 'trk3'`);
    expect(shalom?.album_name).toBe('אלבום (Deluxe)');
    const [dee] = await warehouse.query(`select artist_name from marts.dim_artists where artist_id = 'art4'`);
    expect(dee?.artist_name).toBe('Dee Dee');

    // Only day 1's chart and what it mentions were rewritten.
    const fctLoadedAt = await readLoadedAt(warehouse, 'fct_chart_entries');
    for (const [key, loadedAt] of Object.entries(afterDay2LoadedAt.fct_chart_entries)) {
      if (key.includes(`|${day2.date}|`)) expect(fctLoadedAt[key]).toBe(loadedAt);
      else expect(fctLoadedAt[key]).not.toBe(loadedAt);
    }
    expect((await readLoadedAt(warehouse, 'dim_tracks')).trk4).toBe(afterDay2LoadedAt.dim_tracks.trk4);
    expect((await readLoadedAt(warehouse, 'dim_artists')).art5).toBe(afterDay2LoadedAt.dim_artists.art5);
  });

  it('fails the build, and leaves the marts alone, when the stage breaks a test', async () => {
    await loadStage(warehouse, badDayStage);
    const result = await build({
      date: '2024-03-03',
      runId: 'run-day-3',
      extractedAt: '2024-03-03 06:00:00',
    });

    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('accepted_range_stg_stage__chart_songs_position__1');
    expect(await readMarts(warehouse)).toEqual(afterDay2);
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
