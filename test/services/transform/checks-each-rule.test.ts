import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { runChecks } from '../../../services/transform/checks.js';
import type { CheckResult } from '../../../shared/lake/run-records.js';
import type { StageSlice } from '../../../shared/ports/warehouse.js';
import type { CellValue } from '../../../shared/records/csv.js';
import { stageSlice } from './stage-slice.js';
import { columnNames, unitIntervalFeatures } from '../../../shared/records/stage-tables.js';

const chartDate = '2026-11-21';
const enriched = { metadata_source: 'spotify', popularity_source: 'spotify', features_source: 'spotify' };
type Row = Record<string, CellValue>;

/** Every rule a check holds a slice to, by name, in the order runChecks answers them. */
const allPassed: CheckResult[] = [
  'stage_schema',
  'chart_not_empty',
  'chart_positions_1_to_n',
  'chart_tracks_unique',
  'every_chart_row_has_attributes',
  'missing_attributes_have_a_reason',
  'enriched_tracks_have_artists',
  'popularity_0_to_100',
  ...unitIntervalFeatures.map((feature) => `${feature}_0_to_1`),
  'tempo_positive',
].map((name) => ({ name, passed: true }));

/** The results a slice should get: every check passed but those given, with their detail. */
const allPassedBut = (failed: Record<string, string>): CheckResult[] =>
  allPassed.map((c) => (c.name in failed ? { name: c.name, passed: false, detail: failed[c.name] } : c));

const newWarehouse = async (home: string) => {
  const warehouse = new DuckDbWarehouse({
    path: path.join(home, 'w.duckdb'),
    lakeRoot: path.join(home, 'lake'),
    mutex: new Mutex(),
  });
  await warehouse.ensureStage();
  return warehouse;
};

/**
 * A day of two tracks (t1 and t2, both fully enriched, each with its artist), changed as a case
 * of a broken rule needs.
 */
interface Day {
  readonly chart?: (row: Row, index: number) => Row[];
  readonly attributes?: (row: Row, index: number) => Row[];
  readonly artists?: boolean;
}

const cases = {
  sound: {},
  positionsSkipOne: { chart: (row, i) => [{ ...row, position: i === 1 ? 3 : 1 }] },
  trackTwice: {
    chart: (row, i) => [{ ...row, track_id: 't1', position: i + 1 }],
    attributes: (row, i) => (i === 0 ? [row] : []),
  },
  lostAttributes: { attributes: (row, i) => (i === 0 ? [row] : []) },
  noReason: { attributes: (row, i) => [i === 0 ? row : { ...row, features_source: null }] },
  noArtists: { artists: false },
  popularityAbove100: { attributes: (row, i) => [{ ...row, popularity: i === 0 ? 101 : 50 }] },
  danceabilityAbove1: { attributes: (row) => [{ ...row, danceability: 1.5 }] },
  tempoZero: { attributes: (row) => [{ ...row, tempo: 0 }] },
} satisfies Record<string, Day>;
type CaseName = keyof typeof cases;
const names = Object.keys(cases) as CaseName[];
const sliceOf = (name: CaseName): StageSlice => ({
  runId: `run-${String(names.indexOf(name)).padStart(6, '0')}`,
  chartId: 'global',
  chartDate,
});

/**
 * The stage is loaded once; each test runs the checks itself (a mutation run activates a mutant
 * for a test's own body, not for the set-up before all of them).
 */
describe('Function: runChecks, each rule and what it says of a slice that breaks it', () => {
  let home: string;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-checks-rules-'));
    const store = new FsObjectStore({ root: path.join(home, 'lake') });
    warehouse = await newWarehouse(home);
    for (const name of names) {
      const day: Day = cases[name];
      const { runId } = sliceOf(name);
      const lineage = {
        chart_id: 'global',
        chart_date: chartDate,
        run_id: runId,
        extracted_at: '2026-11-21 06:00:00',
      };
      const tracks = ['t1', 't2'];
      const chartRows = tracks.flatMap((id, i) =>
        (day.chart ?? ((r: Row) => [r]))(
          { ...lineage, position: i + 1, track_id: id, track_name: id, artist_names: 'A', source: 'test' },
          i,
        ),
      );
      const attributeRows = tracks.flatMap((id, i) =>
        (day.attributes ?? ((r: Row) => [r]))(
          { ...lineage, track_id: id, ...enriched, enrichment_status: 'ok' },
          i,
        ),
      );
      const artistRows =
        day.artists === false
          ? []
          : attributeRows.map((r) => ({
              ...lineage,
              track_id: r.track_id!,
              artist_position: 1,
              artist_id: 'a1',
              artist_name: 'A',
            }));
      await stageSlice(store, warehouse, sliceOf(name), {
        chart_songs: chartRows,
        song_attributes: attributeRows,
        song_artists: artistRows,
      });
    }
  });
  afterAll(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  const resultsOf = async (name: CaseName) => (await runChecks(warehouse, [sliceOf(name)]))[0];

  it('passes a sound slice on every rule, naming each, and nothing more without manifests', async () => {
    expect(await resultsOf('sound')).toEqual(allPassed);
  });

  it.each([
    ['positionsSkipOne', 'chart_positions_1_to_n', 'chart positions are not exactly 1..N'],
    ['trackTwice', 'chart_tracks_unique', '1 track(s) appear more than once on the chart'],
    ['lostAttributes', 'every_chart_row_has_attributes', '1 chart row(s) have no attribute row'],
    [
      'noReason',
      'missing_attributes_have_a_reason',
      '1 row(s) lack attributes without a reason led by quota, provider_error, not_found: lost, not missing',
    ],
    ['noArtists', 'enriched_tracks_have_artists', '2 enriched track(s) have no artist'],
    ['popularityAbove100', 'popularity_0_to_100', '1 row(s) have popularity outside 0..100'],
    ['danceabilityAbove1', 'danceability_0_to_1', '2 row(s) have danceability outside 0..1'],
    ['tempoZero', 'tempo_positive', '2 row(s) have a tempo that is not above 0'],
  ] as const)('fails %s on %s alone, saying how many rows break it', async (name, check, detail) => {
    expect(await resultsOf(name)).toEqual(allPassedBut({ [check]: detail }));
  });

  it('fails a slice the stage holds no chart rows of on chart_not_empty', async () => {
    const [absent] = await runChecks(warehouse, [{ ...sliceOf('sound'), runId: 'run-999999' }]);
    expect(absent).toEqual(allPassedBut({ chart_not_empty: 'the chart has no rows' }));
  });

  describe('the stage against its manifest', () => {
    const check = async (manifest: { runId: string; trackIds: string[] }) =>
      (await runChecks(warehouse, [sliceOf('sound')], async () => manifest))[0]!.at(-1);
    const { runId } = sliceOf('sound');

    it('leaves a slice whose manifest a later run replaced to that run, naming it', async () => {
      expect(await check({ runId: 'run-999999', trackIds: [] })).toEqual({
        name: 'stage_matches_manifest',
        passed: true,
        detail: 'the manifest now names a later run, run-999999',
      });
    });

    it('names five tracks the stage lacks, and counts the others', async () => {
      const five = ['a1', 'a2', 'a3', 'a4', 'a5'];
      expect(await check({ runId, trackIds: ['t1', 't2', ...five] })).toMatchObject({
        detail:
          "5 of the manifest's 7 tracks have no chart row (a1, a2, a3, a4, a5); 5 have no attribute row (a1, a2, a3, a4, a5)",
      });
      expect(await check({ runId, trackIds: ['t1', 't2', ...five, 'a6', 'a7', 'a8'] })).toMatchObject({
        detail:
          "8 of the manifest's 10 tracks have no chart row (a1, a2, a3, a4, a5, and 3 more); 8 have no attribute row (a1, a2, a3, a4, a5, and 3 more)",
      });
    });
  });
});

describe('Function: runChecks, on a stage whose tables are not those the pipeline writes', () => {
  let home: string;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-checks-schema-'));
    warehouse = await newWarehouse(home);
    await warehouse.query('alter table stage.song_artists drop column artist_name');
    await warehouse.query('drop table stage.chart_songs');
  });
  afterAll(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  it('fails every slice on stage_schema alone, naming each table that differs and its columns', async () => {
    const artists = columnNames('song_artists');
    const stageSchema = {
      name: 'stage_schema',
      passed: false,
      detail:
        `stage.chart_songs has (no columns), expected (${columnNames('chart_songs').join(', ')}); ` +
        `stage.song_artists has (${artists.filter((c) => c !== 'artist_name').join(', ')}), expected (${artists.join(', ')})`,
    };
    const slices = ['run-000001', 'run-000002'].map((runId) => ({ runId, chartId: 'global', chartDate }));
    expect(await runChecks(warehouse, slices, async () => undefined)).toEqual([[stageSchema], [stageSchema]]);
  });
});
