import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import { logger } from '../../../shared/logger.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { s3EventFactory } from '../../support/factories.js';
import { day, landDay, manifestKey, run1 } from '../../support/landed-days.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

/** The folder store, writing a log line whenever it lists or reads: lines written inside the loader's work. */
class ListLoggingStore extends FsObjectStore {
  override async list(prefix: string) {
    logger.info('store listed', { prefix });
    return super.list(prefix);
  }

  override async get(key: string) {
    logger.info('store read', { key });
    return super.get(key);
  }
}

describe('stage-loader: metrics and log keys', () => {
  let home: string;
  let store: ListLoggingStore;
  let warehouse: DuckDbWarehouse;
  let metrics: RecordingMetrics;
  let published: BusEvent[];
  let handler: ReturnType<typeof makeHandler>;
  const invoke = () => handler(s3EventFactory(manifestKey), localContext('stage-loader'));

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-metrics-'));
    store = new ListLoggingStore({ root: path.join(home, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    metrics = new RecordingMetrics();
    published = [];
    handler = makeHandler({
      store,
      warehouse,
      bus: { publish: async (event) => void published.push(event) },
      clock: systemClock,
      metrics,
    });
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Lands a complete day whose chart quarantined two entries, as chart-fetch records it. */
  const landQuarantiningDay = async () => {
    const landed = await landDay(store, run1, 'verified');
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as Record<string, unknown>;
    await store.put(manifestKey, JSON.stringify({ ...manifest, requests: { spotify: 3 }, quarantined: 2 }));
    return landed;
  };

  it('emits the rows per dataset and the quarantined items of a load, once however often its event comes', async () => {
    await landQuarantiningDay();
    await invoke();
    await invoke();
    await Promise.all([invoke(), invoke()]);
    expect(published).toHaveLength(1);
    expect(metrics.figures).toEqual([
      { name: 'RowsLoaded', value: 4, dimensions: { dataset: 'chart_songs' } },
      { name: 'RowsLoaded', value: 4, dimensions: { dataset: 'song_attributes' } },
      { name: 'RowsLoaded', value: 4, dimensions: { dataset: 'song_artists' } },
      { name: 'QuarantinedItems', value: 2, dimensions: {} },
    ]);
  });

  it('emits nothing for a day that is not complete', async () => {
    await landQuarantiningDay();
    for (const prefix of ['raw/song_attributes/', 'tables/song_attributes/', 'tables/song_artists/'])
      for (const { key } of await store.list(prefix)) await store.delete(key);
    expect(await invoke()).toEqual([expect.objectContaining({ outcome: 'incomplete' })]);
    expect(metrics.figures).toEqual([]);
  });

  it('emits a refused load as a run not loaded, of its chart, once', async () => {
    const { first } = await landQuarantiningDay();
    await store.put(first.attributes, 'not what the part manifest says');
    expect(await invoke()).toEqual([expect.objectContaining({ outcome: 'refused' })]);
    await invoke();
    expect(metrics.figures).toEqual([
      { name: 'Runs', value: 1, dimensions: { outcome: 'not_loaded', chart: day.chartId } },
    ]);
  });

  it("puts the day's chart, date and run on the lines written while it loads, and takes them off after", async () => {
    await landQuarantiningDay();
    const lines = await captureLogLines(async () => {
      await invoke();
      logger.info('after the invocation');
    });
    const inside = linesOf(lines, 'store listed');
    expect(inside.length).toBeGreaterThan(0);
    for (const line of inside) {
      expect(line).toMatchObject({ chartId: day.chartId, chartDate: day.chartDate });
    }
    // The run is known once the manifest is read: every listing comes after.
    expect(inside.map((line) => line.runId)).toEqual(inside.map(() => run1));
    const [after] = linesOf(lines, 'after the invocation');
    expect(after).toBeDefined();
    for (const key of ['runId', 'chartId', 'chartDate']) expect(after).not.toHaveProperty(key);
  });

  it("takes a day's keys off before the next day of the same event", async () => {
    await landQuarantiningDay();
    const otherManifest = lakeKeys.manifest(day.chartDate, 'us');
    const lines = await captureLogLines(async () => {
      await handler(s3EventFactory(manifestKey, otherManifest), localContext('stage-loader'));
    });
    const read = linesOf(lines, 'store read');
    const ofOther = read.filter((line) => line.key === otherManifest);
    expect(read.filter((line) => line.key === manifestKey)).toEqual([
      expect.objectContaining({ chartId: day.chartId }),
    ]);
    // The other day has no manifest: its lines carry its own chart, and no run of the first day's.
    expect(ofOther).toEqual([expect.objectContaining({ chartId: 'us', chartDate: day.chartDate })]);
    expect(ofOther[0]).not.toHaveProperty('runId');
  });
});
