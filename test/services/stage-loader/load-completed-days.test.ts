import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import type { BusEvent, EventBus } from '../../../shared/ports/event-bus.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { listDay } from '../../../shared/lake/layouts.js';
import { createdKeysOf } from '../../../shared/events/s3-event.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import type { Manifest } from '../../../shared/records/messages.js';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { s3EventFactory } from '../../support/factories.js';
import { RunRecords } from '../../../shared/lake/run-records.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
import { manifestExtras, markLandedPart, type Layout } from '../../support/lake-parts.js';

const day = { chartDate: '2026-11-20', chartId: 'global' };
const lineage = (runId: string) => ({
  chart_id: 'global',
  chart_date: day.chartDate,
  run_id: runId,
  extracted_at: '2026-11-21 06:00:00.000',
});

/**
 * Keeps the ObjectCreated events the bucket notification hands the loader: those under `raw/`
 * (the CSVs, under `tables/`, fire nothing).
 */
const keepRawEvents = (events: S3Event[]) => (event: S3Event) => {
  if (createdKeysOf(event).every((key) => key.startsWith('raw/'))) events.push(event);
};

/** The loader under test: a DuckDB warehouse in the home, and a bus that keeps what it is told. */
const openLoader = (home: string, store: FsObjectStore, published: BusEvent[]) => {
  const warehouse = new DuckDbWarehouse({
    path: path.join(home, 'w.duckdb'),
    lakeRoot: path.join(home, 'lake'),
    mutex: new Mutex(),
  });
  const bus: EventBus = { publish: async (event) => void published.push(event) };
  return { warehouse, handler: makeHandler({ store, warehouse, bus, clock: systemClock }) };
};

/** What landing a day took, as chart-fetch and track-attributes record it in the day's manifests. */
interface Landing {
  readonly chart: { readonly requests?: Record<string, number>; readonly quarantined: number };
  readonly parts: readonly { readonly requests?: Record<string, number>; readonly quarantined: number }[];
}

/** Lands a complete day for a run: chart, manifest, and attribute parts covering every id. */
const landDay = async (
  store: FsObjectStore,
  runId: string,
  ids: string[],
  layout: Layout,
  landing?: Landing,
) => {
  await landChart(store, runId, ids, layout, landing);
  await landParts(store, runId, ids, [ids.slice(0, 2), ids.slice(2)], layout, landing);
};

/** A run's chart CSV and manifest (what chart-fetch writes): the day waits for its parts. */
const landChart = async (
  store: FsObjectStore,
  runId: string,
  ids: string[],
  layout: Layout,
  landing?: Landing,
) => {
  const chartCsv = toStageCsv(
    'chart_songs',
    ids.map((id, i) => ({
      ...lineage(runId),
      position: i + 1,
      track_id: id,
      track_name: `n${i}`,
      artist_names: 'a',
      source: 't',
    })),
  );
  await store.put(lakeKeys.chartCsv(day.chartDate, day.chartId), chartCsv);
  const manifest: Manifest = {
    runId,
    ...day,
    source: 't',
    extractedAt: '2026-11-21T06:00:00.000Z',
    trackIds: ids,
    skipped: [],
    ...manifestExtras(layout, lakeKeys.chartCsv(day.chartDate, day.chartId), chartCsv),
    ...landing?.chart,
  };
  await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest));
};

/**
 * A run's attribute parts, one per group of its manifest's ids (what track-attributes writes): each
 * part's CSVs, and its marker where the layout has them.
 */
const landParts = async (
  store: FsObjectStore,
  runId: string,
  ids: readonly string[],
  groups: readonly (readonly string[])[],
  layout: Layout,
  landing?: Landing,
) => {
  for (const [index, half] of groups.entries()) {
    const part = partName(runId, half);
    const artistsCsv = toStageCsv(
      'song_artists',
      half.map((id) => ({
        ...lineage(runId),
        track_id: id,
        artist_position: 1,
        artist_id: 'a1',
        artist_name: 'A',
      })),
    );
    const attributesCsv = toStageCsv(
      'song_attributes',
      half.map((id) => ({ ...lineage(runId), track_id: id, enrichment_status: 'ok' })),
    );
    await store.put(lakeKeys.artistsCsv(day.chartDate, day.chartId, part), artistsCsv);
    await store.put(lakeKeys.attributesCsv(day.chartDate, day.chartId, part), attributesCsv);
    if (layout !== 'files') {
      const indexes = half.map((id) => ids.indexOf(id));
      await markLandedPart(store, layout, {
        ...day,
        runId,
        part,
        trackIds: half,
        indexes,
        attributesCsv,
        artistsCsv,
        ...landing?.parts[index],
      });
    }
  }
};

describe.each<Layout>(['verified', 'keys', 'files'])(
  'Function: stage-loader handler (a day landed for %s)',
  (layout) => {
    let home: string;
    let store: FsObjectStore;
    let events: S3Event[];
    let published: BusEvent[];
    let handler: ReturnType<typeof makeHandler>;
    let warehouse: DuckDbWarehouse;

    beforeEach(async () => {
      home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-'));
      events = [];
      published = [];
      store = new FsObjectStore({ root: path.join(home, 'lake'), onObjectCreated: keepRawEvents(events) });
      ({ warehouse, handler } = openLoader(home, store, published));
    });
    afterEach(() => rm(home, { recursive: true, force: true }));

    it('waits while the attribute parts do not cover the manifest', async () => {
      await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4'], layout);
      // The second part has not landed: neither its CSVs nor its marker are there.
      const second = partName('run-000001', ['t3', 't4']);
      for (const { key } of (await listDay(store, day)).attributes)
        if (key.includes(second)) await store.delete(key);
      const decisions = await handler(events.at(-1)!, localContext('stage-loader'));
      expect(decisions).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
      expect(published).toHaveLength(0);
    });

    it('loads exactly once for 20 concurrent ObjectCreated events of a complete day', async () => {
      await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4'], layout);
      const all = events.slice();
      const burst = Array.from({ length: 20 }, (_, i) => all[i % all.length]!);
      const decisions = (
        await Promise.all(burst.map((e) => handler(e, localContext('stage-loader'))))
      ).flat();
      expect(decisions.filter((d) => d.outcome === 'loaded')).toHaveLength(1);
      expect(decisions.filter((d) => d.outcome === 'already_claimed')).toHaveLength(19);
      expect(published).toHaveLength(1);
      const [row] = await warehouse.query<{ n: number }>('select count(*) as n from stage.chart_songs');
      expect(row!.n).toBe(4);
    });

    it('ignores parts of an earlier run of the same day and loads the new run once it is complete', async () => {
      await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4'], layout);
      await handler(events.at(-1)!, localContext('stage-loader'));
      // A second run rewrites the chart and manifest; its attributes are not there yet.
      const chartKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
      await store.put(
        chartKey,
        toStageCsv('chart_songs', [
          {
            ...lineage('run-000002'),
            position: 1,
            track_id: 't9',
            track_name: 'x',
            artist_names: 'a',
            source: 't',
          },
        ]),
      );
      await store.put(
        lakeKeys.manifest(day.chartDate, day.chartId),
        JSON.stringify({
          runId: 'run-000002',
          ...day,
          source: 't',
          extractedAt: '2026-11-21T07:00:00.000Z',
          trackIds: ['t9'],
          skipped: [],
          ...manifestExtras(layout, chartKey, (await store.get(chartKey))!.toString('utf8')),
        }),
      );
      expect(await handler(events.at(-1)!, localContext('stage-loader'))).toEqual([
        { outcome: 'incomplete', day, missing: 1 },
      ]);
    });

    it("loads a new run of a day with its own parts only, where an earlier run's parts hold the same tracks", async () => {
      // The earlier run, loaded: parts of t1,t2 and t3,t4.
      await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4'], layout);
      await handler(events.at(-1)!, localContext('stage-loader'));
      await warehouse.cleanStage([{ runId: 'run-000001', ...day }]);
      // A new run of the same day charts t1, t2 and t9. The earlier run's parts cover t1 and t2,
      // and must not count: until its own parts land, the new run misses all three.
      const ids = ['t1', 't2', 't9'];
      await landChart(store, 'run-000002', ids, layout);
      expect(await handler(events.at(-1)!, localContext('stage-loader'))).toEqual([
        { outcome: 'incomplete', day, missing: 3 },
      ]);
      await landParts(store, 'run-000002', ids, [['t9']], layout);
      expect(await handler(events.at(-1)!, localContext('stage-loader'))).toEqual([
        { outcome: 'incomplete', day, missing: 2 },
      ]);
      // Its own parts complete: the load holds the new run's rows, and no row of the earlier run.
      await landParts(store, 'run-000002', ids, [['t1', 't2']], layout);
      expect(await handler(events.at(-1)!, localContext('stage-loader'))).toMatchObject([
        { outcome: 'loaded', runId: 'run-000002' },
      ]);
      for (const table of ['chart_songs', 'song_attributes', 'song_artists']) {
        const rows = await warehouse.query<{ run_id: string; track_id: string }>(
          `select run_id, track_id from stage.${table} order by track_id`,
        );
        expect({ table, rows }).toEqual({
          table,
          rows: ids.map((track_id) => ({ run_id: 'run-000002', track_id })),
        });
      }
    });

    it('refuses an event that is not an S3 event, naming what is wrong', async () => {
      await expect(handler({ Records: [{ nope: true }] }, localContext('stage-loader'))).rejects.toThrow(
        /^S3 event: ✖ .* → at Records\[0\]\./,
      );
    });
  },
);

/** The folder store, with every key read written down. */
class ReadSpyStore extends FsObjectStore {
  readonly read: string[] = [];
  override async get(key: string) {
    this.read.push(key);
    return super.get(key);
  }
}

describe('Function: stage-loader handler (completeness from keys)', () => {
  let home: string;
  let store: ReadSpyStore;
  let published: BusEvent[];
  let handler: ReturnType<typeof makeHandler>;
  let warehouse: DuckDbWarehouse;
  const ids = ['t1', 't2', 't3', 't4'];
  const secondPart = partName('run-000001', ['t3', 't4']);
  const decide = async () =>
    handler(s3EventFactory(lakeKeys.manifest(day.chartDate, day.chartId)), localContext('stage-loader'));

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-keys-'));
    published = [];
    store = new ReadSpyStore({ root: path.join(home, 'lake') });
    ({ warehouse, handler } = openLoader(home, store, published));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('decides and loads a complete day reading no data file: only the manifest', async () => {
    await landDay(store, 'run-000001', ids, 'keys');
    store.read.length = 0;
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId: 'run-000001' }]);
    expect(store.read).toEqual([lakeKeys.manifest(day.chartDate, day.chartId)]);
    const [row] = await warehouse.query<{ n: number }>('select count(*) as n from stage.song_attributes');
    expect(row!.n).toBe(4);
  });

  it('does not count a part rewritten since its marker (another run with the same ids)', async () => {
    await landDay(store, 'run-000001', ids, 'keys');
    await store.put(
      lakeKeys.attributesCsv(day.chartDate, day.chartId, secondPart),
      toStageCsv(
        'song_attributes',
        ['t3', 't4'].map((id) => ({ ...lineage('run-000000'), track_id: id, enrichment_status: 'ok' })),
      ),
    );
    expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
    expect(published).toHaveLength(0);
  });

  it('reads only what changed since its run wrote it (a hand edit), and loads it if it is still the run’s', async () => {
    await landDay(store, 'run-000001', ids, 'keys');
    const chartKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
    const partKey = lakeKeys.attributesCsv(day.chartDate, day.chartId, secondPart);
    await store.put(chartKey, `${(await store.get(chartKey))!.toString('utf8')}`.replace(',2,', ',1,'));
    await store.put(
      partKey,
      toStageCsv(
        'song_attributes',
        ['t3', 't4'].map((id) => ({ ...lineage('run-000001'), track_id: id, enrichment_status: 'missing' })),
      ),
    );
    store.read.length = 0;
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId: 'run-000001' }]);
    expect(store.read.sort()).toEqual(
      [chartKey, lakeKeys.manifest(day.chartDate, day.chartId), partKey].sort(),
    );
    const [row] = await warehouse.query<{ n: number }>('select count(*) as n from stage.song_attributes');
    expect(row!.n).toBe(4);
  });

  it('ignores the markers of another run, and waits while the chart CSV is not the run’s', async () => {
    await landDay(store, 'run-000001', ids, 'keys');
    const manifestKey = lakeKeys.manifest(day.chartDate, day.chartId);
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as Manifest;
    // The manifest of a second run with the same tracks, whose parts are not there yet.
    await store.put(manifestKey, JSON.stringify({ ...manifest, runId: 'run-000002' }));
    expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 4 }]);
    // Its own manifest again, but the chart CSV is another run's (a re-run halfway through).
    await store.put(manifestKey, JSON.stringify(manifest));
    const chartKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
    await store.put(
      chartKey,
      (await store.get(chartKey))!.toString('utf8').replaceAll('run-000001', 'run-000002'),
    );
    expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 0 }]);
    expect(published).toHaveLength(0);
  });

  it('loads every part of the run, overlapping ones included (a redelivered batch regrouped)', async () => {
    await landDay(store, 'run-000001', ids.slice(0, 2).concat(['t3', 't4']), 'keys');
    await store.delete(
      (await store.list('raw/song_attributes/')).find(
        (o) => o.key.includes(`${secondPart}.`) && o.key.includes('_done'),
      )!.key,
    );
    expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
    // The second half, landed again in a part with the first track: it covers the rest.
    const overlap = ['t1', 't3', 't4'];
    const part = partName('run-000001', overlap);
    const attributesCsv = toStageCsv(
      'song_attributes',
      overlap.map((id) => ({ ...lineage('run-000001'), track_id: id, enrichment_status: 'ok' })),
    );
    const artistsCsv = toStageCsv(
      'song_artists',
      overlap.map((id) => ({
        ...lineage('run-000001'),
        track_id: id,
        artist_position: 1,
        artist_id: 'a1',
        artist_name: 'A',
      })),
    );
    await store.put(lakeKeys.artistsCsv(day.chartDate, day.chartId, part), artistsCsv);
    await store.put(lakeKeys.attributesCsv(day.chartDate, day.chartId, part), attributesCsv);
    await markLandedPart(store, 'keys', {
      ...day,
      runId: 'run-000001',
      part,
      trackIds: overlap,
      indexes: [0, 2, 3],
      attributesCsv,
      artistsCsv,
    });
    expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
    // The part without a marker is not loaded; the two marked ones are.
    const [row] = await warehouse.query<{ n: number }>('select count(*) as n from stage.song_attributes');
    expect(row!.n).toBe(5);
  });
});

describe('Function: stage-loader handler (files held to their manifests)', () => {
  let home: string;
  let store: FsObjectStore;
  let published: BusEvent[];
  let handler: ReturnType<typeof makeHandler>;
  let warehouse: DuckDbWarehouse;
  const ids = ['t1', 't2', 't3', 't4'];
  const runId = 'run-000001';
  const chartKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
  const partKey = lakeKeys.attributesCsv(day.chartDate, day.chartId, partName(runId, ['t3', 't4']));
  const decide = async () =>
    handler(s3EventFactory(lakeKeys.manifest(day.chartDate, day.chartId)), localContext('stage-loader'));
  const stageRows = async () =>
    Number((await warehouse.query<{ n: number }>('select count(*) as n from stage.chart_songs'))[0]?.n ?? 0);

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-verified-'));
    published = [];
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    ({ warehouse, handler } = openLoader(home, store, published));
    await warehouse.ensureStage();
    await landDay(store, runId, ids, 'verified');
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /** Refused: the decision and the run record name the file and how it differs; nothing staged or touched. */
  const expectRefused = async (key: string, kind: string, body: Buffer | undefined) => {
    const [decision] = await decide();
    expect(decision).toMatchObject({ outcome: 'refused', runId, problems: [{ key, kind }] });
    expect(published).toHaveLength(0);
    expect(await stageRows()).toBe(0);
    expect(await store.get(key)).toEqual(body);
    const [record] = await new RunRecords(store).list(day);
    expect(record).toMatchObject({ status: 'not_loaded', damagedFiles: [{ key, kind }] });
    expect(record!.reason).toContain(key);
    // Refused once: the run's later events find the claim taken.
    expect(await decide()).toEqual([{ outcome: 'already_claimed', day, runId }]);
  };

  it('loads the day when every file is what its manifest says', async () => {
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId }]);
    expect(await stageRows()).toBe(4);
  });

  it('records what landing the day took: the chart’s and every part’s requests and quarantined, summed', async () => {
    await landDay(store, runId, ids, 'verified', {
      chart: { requests: { spotify: 2 }, quarantined: 1 },
      parts: [
        { requests: { spotify: 3, reccobeats: 1 }, quarantined: 0 },
        { requests: { spotify: 1 }, quarantined: 2 },
      ],
    });
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId }]);
    const [record] = await new RunRecords(store).list(day);
    expect(record!.landing).toEqual({ requests: { spotify: 6, reccobeats: 1 }, quarantined: 3 });
  });

  it('leaves the requests unknown when a part did not keep them, and still counts the quarantined', async () => {
    await landDay(store, runId, ids, 'verified', {
      chart: { requests: { spotify: 2 }, quarantined: 1 },
      parts: [{ requests: { spotify: 3 }, quarantined: 0 }, { quarantined: 2 }],
    });
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId }]);
    const [record] = await new RunRecords(store).list(day);
    expect(record!.landing).toEqual({ quarantined: 3 });
  });

  it('records nothing of the landing for a manifest written before it was kept', async () => {
    expect(await decide()).toMatchObject([{ outcome: 'loaded', runId }]);
    const [record] = await new RunRecords(store).list(day);
    expect(record).not.toHaveProperty('landing');
  });

  it('refuses a chart CSV cut at a line boundary, naming it and its size', async () => {
    const lines = (await store.get(chartKey))!.toString('utf8').split('\n');
    const cut = Buffer.from(`${lines.slice(0, 3).join('\n')}\n`);
    await store.put(chartKey, cut);
    await expectRefused(chartKey, 'size', cut);
  });

  it('refuses a part CSV edited in place (same size, other bytes)', async () => {
    const edited = Buffer.from((await store.get(partKey))!.toString('utf8').replace('"ok"', '"ko"'));
    await store.put(partKey, edited);
    await expectRefused(partKey, 'checksum', edited);
  });

  it('refuses a day whose marked part CSV is gone', async () => {
    await store.delete(partKey);
    await expectRefused(partKey, 'missing', undefined);
  });

  it('refuses random bytes in the chart CSV, without throwing', async () => {
    const original = (await store.get(chartKey))!;
    const noise = Buffer.concat([original.subarray(0, 40), Buffer.from([0x22, 0xff, 0x00, 0x22, 0x0a])]);
    await store.put(chartKey, noise);
    await expectRefused(chartKey, 'size', noise);
  });

  it('waits, refusing nothing, while a later run rewrites the chart CSV before its manifest', async () => {
    const body = (await store.get(chartKey))!.toString('utf8').replaceAll(runId, 'run-000002');
    await store.put(chartKey, body);
    expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 0 }]);
    expect(await new RunRecords(store).list(day)).toEqual([]);
  });
});

/** The store, but its first `method` call on a key that `matches` fails, as a store having a bad moment. */
const failingOnce = (
  inner: FsObjectStore,
  method: 'put' | 'checksum',
  matches: (key: string) => boolean,
): FsObjectStore => {
  let failed = false;
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (key: string, ...rest: unknown[]) => {
        if (!failed && matches(key)) {
          failed = true;
          throw new Error(`the store is having a bad moment: ${method} ${key}`);
        }
        return value.call(target, key, ...rest);
      };
    },
  });
};

describe('Function: stage-loader handler (a failure after the claim)', () => {
  let home: string;
  let store: FsObjectStore;
  let published: BusEvent[];
  let warehouse: DuckDbWarehouse;
  const ids = ['t1', 't2', 't3', 't4'];
  const runId = 'run-000001';
  const claimKey = lakeKeys.claim(day.chartDate, day.chartId, runId);
  const event = s3EventFactory(lakeKeys.manifest(day.chartDate, day.chartId));
  const stageRows = async () =>
    Number((await warehouse.query<{ n: number }>('select count(*) as n from stage.chart_songs'))[0]?.n ?? 0);

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-give-back-'));
    published = [];
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    ({ warehouse } = openLoader(home, store, published));
    await warehouse.ensureStage();
    await landDay(store, runId, ids, 'verified');
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  const handlerOn = (faulty: FsObjectStore) =>
    makeHandler({
      store: faulty,
      warehouse,
      bus: { publish: async (e) => void published.push(e) },
      clock: systemClock,
    });

  it.each([
    ['recording the load (its run record cannot be written)', 'put' as const, 'control/runs/'],
    ['checking a file (its checksum cannot be read)', 'checksum' as const, 'tables/chart_songs/'],
  ])(
    'gives the claim back and leaves the stage empty when %s fails, so that the retry loads the day',
    async (_what, method, prefix) => {
      const handler = handlerOn(failingOnce(store, method, (key) => key.startsWith(prefix)));
      await expect(handler(event, localContext('stage-loader'))).rejects.toThrow(/bad moment/);
      expect(await store.get(claimKey)).toBeUndefined();
      expect(await stageRows()).toBe(0);
      expect(published).toHaveLength(0);
      expect(await new RunRecords(store).list(day)).toEqual([]);

      // The retry of the event (the async invocation's, or the next ObjectCreated) loads it once.
      expect(await handler(event, localContext('stage-loader'))).toMatchObject([
        { outcome: 'loaded', runId },
      ]);
      expect(await stageRows()).toBe(4);
      expect(published).toHaveLength(1);
      expect(await new RunRecords(store).list(day)).toMatchObject([{ status: 'loaded', runId }]);
    },
  );
});

describe('Function: stage-loader handler (a batch whose days were declared)', () => {
  let home: string;
  let store: FsObjectStore;
  let events: S3Event[];
  let published: BusEvent[];
  let handler: ReturnType<typeof makeHandler>;
  const batchId = '20261122T100000000Z-0a1b2c3d';

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-batch-'));
    events = [];
    published = [];
    store = new FsObjectStore({ root: path.join(home, 'lake'), onObjectCreated: keepRawEvents(events) });
    ({ handler } = openLoader(home, store, published));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /** Lands the day as a day of the batch (chart-fetch writes its batch into the manifest). */
  const landInBatch = async () => {
    await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4'], 'verified');
    const key = lakeKeys.manifest(day.chartDate, day.chartId);
    const manifest = JSON.parse((await store.get(key))!.toString('utf8')) as Manifest;
    await store.put(key, JSON.stringify({ ...manifest, batchId }));
  };
  const expectDays = (chartDates: string[]) =>
    new TransformBatches(store).expect({
      batchId,
      createdAt: '2026-11-22T10:00:00.000Z',
      days: chartDates.map((chartDate) => ({ chartId: day.chartId, chartDate })),
    });
  const detailTypes = () => published.map((e) => e.detailType);

  it('asks for the batch’s transform when the day it loads is the last the batch expects', async () => {
    await expectDays([day.chartDate]);
    await landInBatch();
    await handler(events.at(-1)!, localContext('stage-loader'));
    expect(detailTypes()).toEqual(['Stage Loaded', 'Transform Requested']);
    expect(published[1]!.detail).toEqual({ batchId });
  });

  it('only announces the load while another expected day is missing', async () => {
    await expectDays([day.chartDate, '2026-11-21']);
    await landInBatch();
    await handler(events.at(-1)!, localContext('stage-loader'));
    expect(detailTypes()).toEqual(['Stage Loaded']);
  });

  it('asks for nothing for a batch that declared no days (a backfill on one machine asks itself)', async () => {
    await landInBatch();
    await handler(events.at(-1)!, localContext('stage-loader'));
    expect(detailTypes()).toEqual(['Stage Loaded']);
    expect(published[0]!.detail).toMatchObject({ batchId });
  });
});
