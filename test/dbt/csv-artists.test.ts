import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageTableNames, type StageTableName } from '../../shared/records/stage-tables.js';
import { assertDbtInstalled, runDbt } from './dbt-cli.js';
import { DuckDbTestWarehouse, type StageRow } from './test-warehouse.js';

/**
 * Tracks of a Spotify Charts CSV that no provider knows: their artists come from the CSV (one
 * credit, the CSV's text whole), with metadata_source 'charts_csv'; a provider's credits, when it
 * knows the track, win over them.
 */

const csvSource = 'spotify-charts-csv:regional-global-daily-2024-05-01.csv';
const day = (date: string, runId: string) => ({
  chart_id: 'global',
  chart_date: date,
  run_id: runId,
  extracted_at: `${date} 06:00:00`,
});
const day1 = day('2024-05-01', 'run-csv-1');
const day2 = day('2024-05-02', 'run-csv-2');

const known = { id: 'trkKnown', name: 'Known Song', artists: 'Ana' };
const unknown = { id: 'trkUnknown', name: 'Nobody Knows Me', artists: 'Tyler, the Lighthouse' };
const csvArtistId = `charts_csv:${createHash('md5').update(unknown.artists).digest('hex')}`;

const chartRow = (d: StageRow, position: number, track: typeof known, source = csvSource): StageRow => ({
  ...d,
  position,
  track_id: track.id,
  track_name: track.name,
  artist_names: track.artists,
  streams: 1_000_000 - position,
  source,
});
const found = (d: StageRow, track: typeof known): StageRow => ({
  ...d,
  track_id: track.id,
  enrichment_status: 'ok',
  track_name: track.name,
  album_id: `alb-${track.id}`,
  album_name: 'An Album',
  album_type: 'single',
  release_date: '2024',
  release_date_precision: 'year',
  duration_ms: 200_000,
  is_explicit: false,
  isrc: 'USRC17600001',
  metadata_source: 'spotify',
  popularity: 50,
  popularity_source: 'spotify',
});
const notFound = (d: StageRow, track: typeof known): StageRow => ({
  ...d,
  track_id: track.id,
  enrichment_status: 'not_found',
  missing_reason: 'no provider knows this track',
});
const credit = (d: StageRow, track: typeof known, artistId: string, name: string): StageRow => ({
  ...d,
  track_id: track.id,
  artist_position: 1,
  artist_id: artistId,
  artist_name: name,
});

describe('Function: dbt marts give a CSV track that no provider knows the CSV’s artists', () => {
  let root: string;
  let warehouse: DuckDbTestWarehouse;

  const build = async (stage: Record<StageTableName, StageRow[]>, batch: string) => {
    await warehouse.emptyStage();
    for (const table of stageTableNames) await warehouse.insert(table, stage[table]);
    const result = await runDbt(['build', '--target', 'duckdb'], {
      env: { ...warehouse.dbtEnv, CHARTFLOW_BATCH_ID: batch },
      workDir: path.join(root, 'dbt'),
    });
    expect(result.exitCode, result.output.slice(-4000)).toBe(0);
  };
  const trackArtists = () =>
    warehouse.query(`
      select t.track_id, t.metadata_source, b.artist_id, a.artist_name
      from marts.dim_tracks t
      left join marts.bridge_track_artists b on b.track_id = t.track_id
      left join marts.dim_artists a on a.artist_id = b.artist_id and a.is_current
      order by t.track_id`);

  beforeAll(async () => {
    assertDbtInstalled();
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-csv-artists-'));
    warehouse = new DuckDbTestWarehouse(path.join(root, 'warehouse.duckdb'));
    await warehouse.reset();
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('credits the CSV’s artists, whole, to a track no provider knows, with metadata_source charts_csv', async () => {
    await build(
      {
        chart_songs: [chartRow(day1, 1, known), chartRow(day1, 2, unknown)],
        song_attributes: [found(day1, known), notFound(day1, unknown)],
        song_artists: [credit(day1, known, 'art1', 'Ana')],
      },
      'load-run-csv-1',
    );

    expect(await trackArtists()).toEqual([
      { track_id: 'trkKnown', metadata_source: 'spotify', artist_id: 'art1', artist_name: 'Ana' },
      {
        track_id: 'trkUnknown',
        metadata_source: 'charts_csv',
        artist_id: csvArtistId,
        artist_name: 'Tyler, the Lighthouse',
      },
    ]);
  }, 180_000);

  it('lets a provider’s credits win once it knows the track, and never lets a CSV replace them', async () => {
    await build(
      {
        chart_songs: [chartRow(day2, 1, unknown), chartRow(day2, 2, known)],
        // The provider now knows the once-unknown track; the known one is not found this time.
        song_attributes: [found(day2, unknown), notFound(day2, known)],
        song_artists: [credit(day2, unknown, 'art9', 'Tyler Lighthouse')],
      },
      'load-run-csv-2',
    );

    expect(await trackArtists()).toEqual([
      { track_id: 'trkKnown', metadata_source: 'spotify', artist_id: 'art1', artist_name: 'Ana' },
      { track_id: 'trkUnknown', metadata_source: 'spotify', artist_id: 'art9', artist_name: 'Tyler Lighthouse' },
    ]);
  }, 180_000);
});
