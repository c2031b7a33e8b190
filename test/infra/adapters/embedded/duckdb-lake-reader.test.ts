import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbLakeReader } from '../../../../infra/adapters/embedded/duckdb-lake-reader.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import { duckDbType } from '../../../../infra/adapters/embedded/lake-views.js';
import { ConfigError } from '../../../../shared/errors.js';
import { lakeDatasets } from '../../../../shared/lake/catalog.js';
import { lakeKeys, legacyLakeKeys } from '../../../../shared/lake/keys.js';
import { QueryRefusedError } from '../../../../shared/ports/warehouse-reader.js';
import { toStageCsv } from '../../../../shared/records/csv.js';

/**
 * The lake's DuckDB views over a small lake written with the pipeline's own keys and CSV writer: a
 * day in the tables/ layout, a day in the layout older lakes keep, run records in both JSON forms,
 * quarantined records of both datasets.
 */
const lineage = (date: string, run: string) => ({
  chart_id: 'global',
  chart_date: date,
  run_id: run,
  extracted_at: `${date} 06:30:00.000`,
});

describe('Adapter: DuckDbLakeReader', () => {
  let root: string;
  let lake: string;
  let reader: DuckDbLakeReader;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-lake-reader-'));
    lake = path.join(root, 'lake');
    const store: ObjectStore = new FsObjectStore({ root: lake });
    const put = (key: string, body: string) => store.put(key, body, { contentType: 'text/plain' });
    // 2026-11-14 in tables/, 2026-11-13 where lakes written before tables/ keep it.
    for (const [date, run, keys] of [
      ['2026-11-14', 'run-b', lakeKeys],
      ['2026-11-13', 'run-a', legacyLakeKeys],
    ] as const) {
      await put(
        keys.chartCsv(date, 'global'),
        toStageCsv('chart_songs', [
          {
            ...lineage(date, run),
            position: 1,
            track_id: 't1',
            track_name: 'Comma, "quoted"\nand a new line',
            artist_names: 'A',
            streams: null,
            source: 's',
          },
          {
            ...lineage(date, run),
            position: 2,
            track_id: 't2',
            track_name: '',
            artist_names: 'B',
            streams: 1200,
            source: 's',
          },
        ]),
      );
      await put(
        keys.attributesCsv(date, 'global', 'part-1'),
        toStageCsv('song_attributes', [
          {
            ...lineage(date, run),
            track_id: 't1',
            enrichment_status: 'ok',
            popularity: 80,
            is_explicit: true,
            danceability: 0.5,
          },
          {
            ...lineage(date, run),
            track_id: 't2',
            enrichment_status: 'missing',
            missing_reason: 'quota: spotify',
          },
        ]),
      );
      await put(
        keys.artistsCsv(date, 'global', 'part-1'),
        toStageCsv('song_artists', [
          { ...lineage(date, run), track_id: 't1', artist_position: 1, artist_id: 'a1', artist_name: 'A' },
        ]),
      );
    }
    const record = (runId: string, date: string) => ({
      runId,
      loadId: `${runId}-load`,
      chartId: 'global',
      chartDate: date,
      status: 'succeeded',
      rows: { chart_songs: 2 },
      checks: [{ name: 'chart_not_empty', passed: true }],
      timings: { loadMs: 12 },
      landing: { requests: { spotify: 3 }, quarantined: 1 },
      updatedAt: `${date}T06:31:00.000Z`,
    });
    // An older record pretty-printed, a newer one on one line.
    await put(
      lakeKeys.runRecord('2026-11-13', 'global', 'run-a', 'run-a-load'),
      JSON.stringify(record('run-a', '2026-11-13'), null, 2),
    );
    await put(
      lakeKeys.runRecord('2026-11-14', 'global', 'run-b', 'run-b-load'),
      JSON.stringify(record('run-b', '2026-11-14')),
    );
    await put(
      lakeKeys.quarantine('chart_songs', '2026-11-14', 'global', 'run-b-position-3'),
      JSON.stringify({ reason: 'invalid: no track id', runId: 'run-b', raw: { position: 3 } }),
    );
    await put(
      lakeKeys.quarantine('song_attributes', '2026-11-14', 'global', 'run-b-t9-spotify'),
      JSON.stringify({
        reason: 'invalid: popularity 140',
        provider: 'spotify',
        runId: 'run-b',
        trackId: 't9',
        raw: { id: 't9' },
      }),
    );
    reader = new DuckDbLakeReader(lake);
  });
  afterAll(async () => {
    await reader?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reads a chart from both layouts, with the partitions as text columns and the names as written', async () => {
    const { rows } = await reader.read(
      `select "date", chart, run_id, position, track_name, streams from chart_songs order by "date", position`,
    );
    expect(rows).toEqual([
      ['2026-11-13', 'global', 'run-a', 1, 'Comma, "quoted"\nand a new line', null],
      ['2026-11-13', 'global', 'run-a', 2, '', 1200],
      ['2026-11-14', 'global', 'run-b', 1, 'Comma, "quoted"\nand a new line', null],
      ['2026-11-14', 'global', 'run-b', 2, '', 1200],
    ]);
  });

  it('types the attributes and artists of both layouts as the stage does', async () => {
    const { rows } = await reader.read(
      `select a."date", a.track_id, a.popularity, a.is_explicit, a.danceability, a.missing_reason, r.artist_name
       from song_attributes a left join song_artists r using ("date", chart, run_id, track_id)
       order by a."date", a.track_id`,
    );
    expect(rows).toEqual([
      ['2026-11-13', 't1', 80, true, 0.5, null, 'A'],
      ['2026-11-13', 't2', null, null, null, 'quota: spotify', null],
      ['2026-11-14', 't1', 80, true, 0.5, null, 'A'],
      ['2026-11-14', 't2', null, null, null, 'quota: spotify', null],
    ]);
  });

  it('reads run records written on one line and pretty-printed, their nested fields by name', async () => {
    const { rows } = await reader.read(
      `select run_id, status, timings.loadMs, landing.quarantined, landing.requests['spotify'], checks[1].name
       from run_records order by run_id`,
    );
    expect(rows).toEqual([
      ['run-a', 'succeeded', 12, 1, 3, 'chart_not_empty'],
      ['run-b', 'succeeded', 12, 1, 3, 'chart_not_empty'],
    ]);
  });

  it('reads the quarantine of both datasets, the dataset from its folder, the raw record as JSON text', async () => {
    const { rows } = await reader.read(
      `select "dataset", run_id, track_id, provider, raw from quarantine order by "dataset"`,
    );
    expect(rows).toEqual([
      ['chart_songs', 'run-b', null, null, '{"position":3}'],
      ['song_attributes', 'run-b', 't9', 'spotify', '{"id":"t9"}'],
    ]);
  });

  it('gives every view the catalog’s columns, in order, with the catalog’s types and text partitions', async () => {
    for (const dataset of lakeDatasets) {
      const { rows } = await reader.read(`select column_name, column_type from (describe ${dataset.name})`);
      // DuckDB quotes only the struct fields that need it; the catalog's types quote every one.
      const unquoted = (type: string) => type.replaceAll('"', '');
      expect(
        rows.map(([name, type]) => [name, unquoted(type as string)]),
        dataset.name,
      ).toEqual([
        ...dataset.columns.map((c) => [c.name, unquoted(c.type === 'json' ? 'VARCHAR' : duckDbType(c.type))]),
        ...dataset.partitions.map((p) => [p.name, 'VARCHAR']),
      ]);
    }
  });

  it('refuses what is not a query, a second statement, and any file outside the lake', async () => {
    await expect(reader.read(`copy (select 1) to '${path.join(lake, 'tables', 'x.csv')}'`)).rejects.toThrow(
      /only a query \(select …\) may run here: this statement is a COPY/,
    );
    await expect(reader.read('select 1; select 2')).rejects.toThrow(
      /one statement at a time: the query holds 2/,
    );
    await expect(
      reader.read(`select * from read_text('${path.join(root, '..', 'etc-passwd')}')`),
    ).rejects.toBeInstanceOf(QueryRefusedError);
    await expect(reader.read("select * from read_text('/etc/hostname')")).rejects.toThrow(
      /disabled by configuration/,
    );
  });

  it('has every table, with no row, in a lake that holds nothing yet', async () => {
    const empty = path.join(root, 'empty-lake');
    await mkdir(empty);
    const nothing = new DuckDbLakeReader(empty);
    try {
      for (const dataset of lakeDatasets) {
        const result = await nothing.read(`select * from ${dataset.name}`);
        expect(result.rows, dataset.name).toEqual([]);
        expect(result.columns.map((c) => c.name)).toEqual([
          ...dataset.columns.map((c) => c.name),
          ...dataset.partitions.map((p) => p.name),
        ]);
      }
    } finally {
      await nothing.close();
    }
  });

  it('says there is no lake yet when its folder does not exist', async () => {
    const missing = new DuckDbLakeReader(path.join(root, 'nowhere'));
    await expect(missing.read('select 1')).rejects.toBeInstanceOf(ConfigError);
    await expect(missing.read('select 1')).rejects.toThrow(/there is no lake at .*nowhere yet/);
  });
});
