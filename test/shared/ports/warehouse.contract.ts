import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { StageLoad, Warehouse } from '../../../shared/ports/warehouse.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import { stageTableNames } from '../../../shared/records/stage-tables.js';

export interface WarehouseFixture {
  readonly warehouse: Warehouse;
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
}

/** Names that break naive CSV handling; each must come back from the warehouse unchanged. */
export const trickyNames = [
  'Comma, Inc.',
  'She said "hi"',
  'Line one\nline two',
  'CRLF\r\nbreak',
  'Emoji 👩‍🎤🇧🇷',
  '\u200Fمرحبا بالعالم',
  'עברית',
  '  padded  ',
  '',
];

const lineage = (runId: string, chartDate = '2026-11-20') => ({
  chart_id: 'global',
  chart_date: chartDate,
  run_id: runId,
  extracted_at: '2026-11-21 06:00:00.000',
});

const writeDay = async (store: ObjectStore, runId: string, chartDate = '2026-11-20'): Promise<StageLoad> => {
  const prefix = `raw/test/${runId}/${chartDate}`;
  const chart = trickyNames.map((name, i) => ({
    ...lineage(runId, chartDate),
    position: i + 1,
    track_id: `track${i}`,
    track_name: name,
    artist_names: name || 'x',
    streams: i === 0 ? null : i * 1000,
    source: 'test',
  }));
  const attributes = trickyNames.map((name, i) => ({
    ...lineage(runId, chartDate),
    track_id: `track${i}`,
    enrichment_status: 'ok',
    track_name: name,
    popularity: i,
    is_explicit: i % 2 === 0,
    danceability: 0.5,
    missing_reason: null,
  }));
  const artists = trickyNames.map((name, i) => ({
    ...lineage(runId, chartDate),
    track_id: `track${i}`,
    artist_position: 1,
    artist_id: `artist${i}`,
    artist_name: name,
  }));
  await store.put(`${prefix}/chart.csv`, toStageCsv('chart_songs', chart));
  await store.put(`${prefix}/a.csv`, toStageCsv('song_attributes', attributes));
  await store.put(`${prefix}/r.csv`, toStageCsv('song_artists', artists));
  return {
    runId,
    chartId: 'global',
    chartDate,
    files: {
      chart_songs: [`${prefix}/chart.csv`],
      song_attributes: [`${prefix}/a.csv`],
      song_artists: [`${prefix}/r.csv`],
    },
  };
};

/** The Warehouse port's contract: every adapter must pass it. */
export const describeWarehouseContract = (
  name: string,
  make: () => Promise<WarehouseFixture | undefined>,
) => {
  describe(`Warehouse contract: ${name}`, () => {
    let fixture: WarehouseFixture | undefined;

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture?.cleanup());
    beforeEach(async (context) => {
      if (!fixture) return context.skip();
      await fixture.warehouse.ensureStage();
      await fixture.warehouse.cleanStage(
        ['r1', 'r2', 'r3'].map((runId) => ({ runId, chartId: 'global', chartDate: '2026-11-20' })),
      );
    });

    it('creates the stage idempotently and with exactly the stage columns', async () => {
      const { warehouse } = fixture!;
      await warehouse.ensureStage();
      const rows = await warehouse.query<{ table_name: string }>(
        'select distinct table_name from information_schema.columns where table_schema = :schema order by table_name',
        { schema: 'stage' },
      );
      expect(rows.map((r) => r.table_name)).toEqual([...stageTableNames].sort());
    });

    it('loads every file and counts the rows per table', async () => {
      const { warehouse, store } = fixture!;
      const counts = await warehouse.loadStage(await writeDay(store, 'r1'));
      expect(counts).toEqual({
        chart_songs: trickyNames.length,
        song_attributes: trickyNames.length,
        song_artists: trickyNames.length,
      });
    });

    it('keeps names with commas, quotes, newlines, emoji and right-to-left text exactly, and NULL apart from ""', async () => {
      const { warehouse, store } = fixture!;
      await warehouse.loadStage(await writeDay(store, 'r1'));
      const rows = await warehouse.query<{
        track_name: string | null;
        streams: number | null;
        position: number;
      }>(
        'select track_name, streams, position from stage.chart_songs where run_id = :run_id order by position',
        { run_id: 'r1' },
      );
      expect(rows.map((r) => r.track_name)).toEqual(trickyNames);
      expect(rows[0]!.streams).toBeNull();
      expect(Number(rows[1]!.streams)).toBe(1000);
      const [missing] = await warehouse.query<{ n: number }>(
        'select count(*) as n from stage.song_attributes where run_id = :run_id and missing_reason is null',
        { run_id: 'r1' },
      );
      expect(Number(missing!.n)).toBe(trickyNames.length);
    });

    it('replaces the slice when the same run is loaded again', async () => {
      const { warehouse, store } = fixture!;
      const load = await writeDay(store, 'r1');
      await warehouse.loadStage(load);
      await warehouse.loadStage(load);
      const [row] = await warehouse.query<{ n: number }>(
        'select count(*) as n from stage.chart_songs where run_id = :r',
        { r: 'r1' },
      );
      expect(Number(row!.n)).toBe(trickyNames.length);
    });

    it('loads all or nothing: a bad file leaves the stage as it was', async () => {
      const { warehouse, store } = fixture!;
      const load = await writeDay(store, 'r2');
      await store.put('raw/test/bad.csv', 'not,the,right,header\n1,2,3,4\n');
      await expect(
        warehouse.loadStage({
          ...load,
          files: { ...load.files, song_artists: [...load.files.song_artists, 'raw/test/bad.csv'] },
        }),
      ).rejects.toThrow();
      const [row] = await warehouse.query<{ n: number }>(
        'select count(*) as n from stage.chart_songs where run_id = :r',
        { r: 'r2' },
      );
      expect(Number(row!.n)).toBe(0);
    });

    it('cleans only the slice it is given', async () => {
      const { warehouse, store } = fixture!;
      await warehouse.loadStage(await writeDay(store, 'r1'));
      await warehouse.loadStage(await writeDay(store, 'r3'));
      await warehouse.cleanStage([{ runId: 'r1', chartId: 'global', chartDate: '2026-11-20' }]);
      const rows = await warehouse.query<{ run_id: string; n: number }>(
        "select run_id, count(*) as n from stage.song_artists where run_id in ('r1', 'r3') group by run_id",
      );
      expect(rows.map((r) => [r.run_id, Number(r.n)])).toEqual([['r3', trickyNames.length]]);
    });

    it('cleans many slices at once, past the hundred of one statement, and leaves the others', async () => {
      const { warehouse, store } = fixture!;
      await warehouse.loadStage(await writeDay(store, 'r1'));
      await warehouse.loadStage(await writeDay(store, 'r2'));
      await warehouse.loadStage(await writeDay(store, 'r3'));
      // 250 slices, most of them not in the stage: deleting what is absent is no error.
      const absent = Array.from({ length: 247 }, (_, i) => ({
        runId: `r-absent-${i}`,
        chartId: 'global',
        chartDate: '2026-11-20',
      }));
      await warehouse.cleanStage([
        ...absent.slice(0, 120),
        { runId: 'r1', chartId: 'global', chartDate: '2026-11-20' },
        ...absent.slice(120),
        { runId: 'r3', chartId: 'global', chartDate: '2026-11-20' },
        // The right run on another day is another slice: r2 stays.
        { runId: 'r2', chartId: 'global', chartDate: '2026-11-21' },
      ]);
      const rows = await warehouse.query<{ run_id: string }>(
        "select distinct run_id from stage.chart_songs where run_id in ('r1', 'r2', 'r3')",
      );
      expect(rows.map((r) => r.run_id)).toEqual(['r2']);
    });

    it('answers in one value shape: numbers, dates as YYYY-MM-DD, timestamps as ISO text in UTC', async () => {
      const { warehouse, store } = fixture!;
      await warehouse.loadStage(await writeDay(store, 'r1'));
      const [row] = await warehouse.query(
        `select chart_date, extracted_at, count(*) as n, sum(position) as total, avg(cast(position as double precision)) as mean
         from stage.chart_songs where run_id = :r group by chart_date, extracted_at`,
        { r: 'r1' },
      );
      expect(row).toEqual({
        chart_date: '2026-11-20',
        extracted_at: '2026-11-21T06:00:00.000Z',
        n: trickyNames.length,
        total: 45,
        mean: 5,
      });
    });

    it('binds parameters instead of splicing them', async () => {
      const { warehouse } = fixture!;
      const hostile = "x' or '1'='1";
      const [row] = await warehouse.query<{ n: number }>(
        'select count(*) as n from stage.chart_songs where run_id = :r',
        { r: hostile },
      );
      expect(Number(row!.n)).toBe(0);
      await expect(warehouse.query('select :missing as x')).rejects.toThrow(/:missing/);
    });
  });
};
