import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { loadCompletedDays } from '../../../services/stage-loader/load-completed-days.js';
import { lakeKeys, legacyLakeKeys, partName } from '../../../shared/lake/keys.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { StageLoad } from '../../../shared/ports/warehouse.js';
import { toLegacyLayout } from '../../support/legacy-layout.js';
import {
  chartCsvKey,
  claim,
  day,
  ids,
  landChart,
  landDay,
  manifestKey,
  run1,
  run2,
  type Layout,
} from '../../support/landed-days.js';

/** The DuckDB warehouse, with each load it is handed written down. */
class SpyWarehouse extends DuckDbWarehouse {
  readonly loads: StageLoad[] = [];

  override async loadStage(load: StageLoad) {
    this.loads.push(load);
    return super.loadStage(load);
  }
}

const partsOf = (runId: string) =>
  [ids.slice(0, 2), ids.slice(2)].map((half) => partName(runId, half)).sort();

/**
 * The stage loader in both layouts of the lake (docs/architecture.md, "Key layout"): a day of the
 * `tables/` layout, a day written before (its CSVs under `raw/`, `legacyLakeKeys`), and a legacy
 * day re-run, which writes the `tables/` layout beside the earlier run's files.
 */
describe('stage-loader: a day in either layout', () => {
  let home: string;
  let store: FsObjectStore;
  let warehouse: SpyWarehouse;
  let published: BusEvent[];
  const decide = () =>
    loadCompletedDays([manifestKey], {
      store,
      warehouse,
      bus: { publish: async (event: BusEvent) => void published.push(event) },
      clock: systemClock,
    });
  const stageRows = async (table: string) =>
    Number((await warehouse.query<{ n: number }>(`select count(*) as n from stage.${table}`))[0]?.n ?? 0);

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-layouts-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    warehouse = new SpyWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    published = [];
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  it.each<Layout>(['verified', 'keys', 'files'])(
    'loads a day of the tables/ layout (%s) from its tables’ folders',
    async (layout) => {
      await landDay(store, run1, layout);
      expect(await decide()).toMatchObject([{ outcome: 'loaded', runId: run1 }]);
      expect(warehouse.loads[0]!.files).toMatchObject({
        chart_songs: [chartCsvKey],
        song_attributes: partsOf(run1).map((p) => lakeKeys.attributesCsv(day.chartDate, day.chartId, p)),
        song_artists: partsOf(run1).map((p) => lakeKeys.artistsCsv(day.chartDate, day.chartId, p)),
      });
    },
  );

  it.each<Layout>(['verified', 'keys', 'files'])(
    'loads a day written in the legacy layout (%s) from its old keys',
    async (layout) => {
      await landDay(store, run1, layout);
      await toLegacyLayout(store, day);
      expect(await decide()).toMatchObject([
        { outcome: 'loaded', runId: run1, rows: { chart_songs: 4, song_attributes: 4, song_artists: 4 } },
      ]);
      expect(warehouse.loads[0]!.files).toMatchObject({
        chart_songs: [legacyLakeKeys.chartCsv(day.chartDate, day.chartId)],
        song_attributes: partsOf(run1).map((p) =>
          legacyLakeKeys.attributesCsv(day.chartDate, day.chartId, p),
        ),
        song_artists: partsOf(run1).map((p) => legacyLakeKeys.artistsCsv(day.chartDate, day.chartId, p)),
      });
      expect(published).toHaveLength(1);
    },
  );

  it('refuses a legacy day whose file is not what its manifest says, naming its old key', async () => {
    await landDay(store, run1, 'verified');
    await toLegacyLayout(store, day);
    const legacy = legacyLakeKeys.artistsCsv(day.chartDate, day.chartId, partsOf(run1)[0]!);
    await store.put(legacy, 'damaged\n');
    expect(await decide()).toMatchObject([{ outcome: 'refused', problems: [{ key: legacy, kind: 'size' }] }]);
  });

  it.each<Layout>(['verified', 'keys', 'files'])(
    'takes a legacy day (%s) whose re-run wrote its chart CSV in tables/ for one on its way, not complete and not damaged',
    async (layout) => {
      await landDay(store, run1, layout);
      await toLegacyLayout(store, day);
      await landChart(store, run2, ids);
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 0 }]);
      expect(warehouse.loads).toEqual([]);
    },
  );

  it("loads a re-run of a legacy day from its own files in tables/ only, the earlier run's left where they are", async () => {
    await landDay(store, run1, 'verified');
    await toLegacyLayout(store, day);
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId: run1 }]);
    await claim(store, run1);
    await warehouse.cleanStage([{ runId: run1, ...day }]);

    await landDay(store, run2, 'verified');
    expect(await decide()).toMatchObject([
      { outcome: 'loaded', runId: run2, rows: { chart_songs: 4, song_attributes: 4, song_artists: 4 } },
    ]);
    expect(warehouse.loads[1]!.files).toMatchObject({
      chart_songs: [chartCsvKey],
      song_attributes: partsOf(run2).map((p) => lakeKeys.attributesCsv(day.chartDate, day.chartId, p)),
      song_artists: partsOf(run2).map((p) => lakeKeys.artistsCsv(day.chartDate, day.chartId, p)),
    });
    expect(await stageRows('song_attributes')).toBe(4);
    expect(await store.get(legacyLakeKeys.chartCsv(day.chartDate, day.chartId))).toBeDefined();
  });
});
