import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../infra/adapters/embedded/duckdb-warehouse.js';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../infra/local/handler-context.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { InvalidRecordError } from '../../shared/errors.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.js';
import { systemClock } from '../../shared/ports/clock.js';
import { toStageCsv } from '../../shared/records/csv.js';
import { s3EventFactory } from '../support/factories.js';
import {
  attributeCacheKey,
  AttributeCache,
} from '../../services/track-attributes/enrichment/attribute-cache.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { chartflowChild, expectRefusal, filesUnder } from '../support/chartflow-child.js';

/**
 * Control files of the lake that are not what they should be (cut short, edited by hand), met by
 * the commands that read them, as a user runs them: each is refused with one sentence naming the
 * file, exit 1, and nothing stored is changed or lost, the damaged file included (docs/inputs.md,
 * "Lake files"). The chart and attribute files themselves are the loader's: see
 * test/infra/adapters/warehouse-failures.test.ts.
 */
describe('Command: chartflow, meeting damaged lake files (child processes)', () => {
  let root: string;
  let home: string;
  let lake: FsObjectStore;
  const lakeRoot = () => path.join(home, 'lake');

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-bad-lake-'));
    home = path.join(root, 'home');
    lake = new FsObjectStore({ root: lakeRoot() });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const runRecordKey = lakeKeys.runRecord(
    '2026-11-01',
    'global',
    '20261101T060000000Z-aaaaaaaa',
    '20261101T060001000Z-bbbbbbbb',
  );
  const cutRunRecord = '{\n  "runId": "20261101T060000000Z-aaaaaaaa",\n  "loadId": "2026';

  it('status refuses a run record cut short, naming it, and leaves it as it was', async () => {
    await lake.put(runRecordKey, cutRunRecord);

    const run = await chartflowChild(home, ['status']);

    expectRefusal(run, 1, new RegExp(`^chartflow: Run record ${runRecordKey}: not JSON \\(.+\\)\\.$`));
    expect((await lake.get(runRecordKey))?.toString('utf8')).toBe(cutRunRecord);
  });

  it('a writing command refuses it too, before it writes anything, and gives the home back', async () => {
    await lake.put(runRecordKey, cutRunRecord);
    const before = await filesUnder(lakeRoot());

    // Recovery reads every run record first (infra/local/recovery.ts): it cannot tell an
    // interrupted run from a finished one in a record it cannot read.
    const run = await chartflowChild(home, ['run', '--date', '2026-11-02', '--chart', 'global']);

    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^chartflow: Run record ${runRecordKey}: not JSON \\(.+\\)\\.$`),
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(await filesUnder(lakeRoot())).toEqual(before);
    expect((await lake.get(runRecordKey))?.toString('utf8')).toBe(cutRunRecord);
    expect(existsSync(path.join(home, 'chartflow.lock'))).toBe(false);
  });

  it('retry-missing refuses a backlog entry that is not one, naming it and its fields, and keeps it', async () => {
    const key = lakeKeys.backlogEntry('2026-11-01', 'global', '0VjIjW4GlUZAMYd2vXMi3b');
    const body = JSON.stringify({ trackId: '0VjIjW4GlUZAMYd2vXMi3b', chartDate: '2026-11-01' });
    await lake.put(key, body);
    const before = await filesUnder(lakeRoot());

    const run = await chartflowChild(home, ['retry-missing']);

    expect(run.code, run.stderr).toBe(1);
    const sentence = run.stderr.trimEnd().split('\n').at(-1)!;
    expect(sentence).toMatch(
      new RegExp(`^chartflow: Backlog entry ${key}: ✖ .+ → at chartId; .+ → at gaps\\.$`),
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
    expect(await filesUnder(lakeRoot())).toEqual(before);
    expect((await lake.get(key))?.toString('utf8')).toBe(body);
  });
});

describe('Class: AttributeCache, given an entry that is not one', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-bad-cache-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('treats it as absent (the track is asked again) and rewrites it whole', async () => {
    const store = new FsObjectStore({ root });
    const cache = new AttributeCache(store);
    const [cut, other] = ['0VjIjW4GlUZAMYd2vXMi3b', '3KkXRkHbMCARz0aVfEt68P'];
    await store.put(attributeCacheKey(cut), '{"trackId":"0VjIjW4GlUZAMYd2vXMi3b","metadata":{"colu');
    // Well-formed JSON, but another track's entry under this one's key: as useless as a cut one.
    await store.put(attributeCacheKey(other), JSON.stringify({ trackId: cut }));

    expect([...(await cache.read([cut, other])).keys()]).toEqual([]);

    const entry = {
      trackId: cut,
      features: { columns: { danceability: 0.5 }, source: 'reccobeats', fetchedOn: '2026-11-02' },
    };
    await cache.write([entry]);
    expect((await cache.read([cut])).get(cut)).toEqual(entry);
    expect(JSON.parse(await readFile(path.join(root, attributeCacheKey(cut)), 'utf8'))).toEqual(entry);
  });
});

describe('Class: AttributeCache that remembers (one machine: one writer per home)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-remembered-cache-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads an entry from the lake once, knows what it wrote without reading, and reads unknown ids each time', async () => {
    const gets: string[] = [];
    const store = new (class extends FsObjectStore {
      override get(key: string) {
        gets.push(key);
        return super.get(key);
      }
    })({ root });
    const cache = new AttributeCache(store, { remember: true });
    const [stored, written, unknown] = [
      '0VjIjW4GlUZAMYd2vXMi3b',
      '3KkXRkHbMCARz0aVfEt68P',
      '7qiZfU4dY1lWllzX7mPBI3',
    ];
    const entry = (trackId: string) => ({
      trackId,
      features: { columns: { danceability: 0.5 }, source: 'reccobeats', fetchedOn: '2026-11-02' },
    });
    await store.put(attributeCacheKey(stored), JSON.stringify(entry(stored)));
    await cache.write([entry(written)]);

    for (let i = 0; i < 3; i += 1) {
      const read = await cache.read([stored, written, unknown]);
      expect([...read.keys()].sort()).toEqual([stored, written].sort());
      expect(read.get(stored)).toEqual(entry(stored));
    }
    expect(gets.filter((k) => k === attributeCacheKey(stored))).toHaveLength(1);
    expect(gets.filter((k) => k === attributeCacheKey(written))).toHaveLength(0);
    expect(gets.filter((k) => k === attributeCacheKey(unknown))).toHaveLength(3);
  });

  it('reads the lake every time unless told to remember (Lambda: several writers)', async () => {
    const store = new FsObjectStore({ root });
    const cache = new AttributeCache(store);
    const id = '0VjIjW4GlUZAMYd2vXMi3b';
    await cache.write([
      { trackId: id, featuresMissing: { reason: 'not_found: none', fetchedOn: '2026-10-01' } },
    ]);
    const newer = {
      trackId: id,
      features: { columns: { danceability: 0.5 }, source: 'reccobeats', fetchedOn: '2026-11-02' },
    };
    // Another writer (another Lambda instance) learns the features meanwhile.
    await store.put(attributeCacheKey(id), JSON.stringify(newer));
    expect((await cache.read([id])).get(id)).toEqual(newer);
  });
});

describe('Function: stage-loader handler and TransformBatches, given control files cut short', () => {
  let root: string;
  let store: FsObjectStore;
  let warehouse: DuckDbWarehouse;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-bad-manifest-'));
    store = new FsObjectStore({ root: path.join(root, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(root, 'warehouse.duckdb'),
      lakeRoot: path.join(root, 'lake'),
      mutex: new Mutex(),
    });
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a day whose manifest is not JSON, naming it: no claim, nothing staged or announced, the manifest kept', async () => {
    const day = { chartDate: '2026-11-20', chartId: 'global' };
    const manifestKey = lakeKeys.manifest(day.chartDate, day.chartId);
    const chartKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
    const cut = '{"runId":"20261120T060000000Z-aaaaaaaa","chartId":"glo';
    await store.put(manifestKey, cut);
    await store.put(
      chartKey,
      toStageCsv('chart_songs', [
        {
          chart_id: day.chartId,
          chart_date: day.chartDate,
          run_id: '20261120T060000000Z-aaaaaaaa',
          extracted_at: '2026-11-21 06:00:00.000',
          position: 1,
          track_id: 'track1',
          track_name: 'n',
          artist_names: 'a',
          source: 't',
        },
      ]),
    );
    const published: BusEvent<unknown>[] = [];
    const bus: EventBus = { publish: async (event) => void published.push(event) };
    const handler = makeStageLoader({ store, warehouse, bus, clock: systemClock });

    // The manifest's own ObjectCreated (the chart CSV's, under tables/, starts nothing).
    const failure = handler(s3EventFactory(manifestKey), localContext('stage-loader'));

    await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(failure).rejects.toThrow(new RegExp(`^manifest ${manifestKey}: not JSON \\(.+\\)$`));
    expect(await store.list('control/claims/')).toEqual([]);
    expect(published).toEqual([]);
    await warehouse.ensureStage();
    expect(await warehouse.query('select * from stage.chart_songs')).toEqual([]);
    expect((await store.get(manifestKey))?.toString('utf8')).toBe(cut);
  });

  it('refuses a transform batch that is not one, naming it, and leaves it', async () => {
    const batches = new TransformBatches(store);
    const key = lakeKeys.batch('20261120T060000000Z-bbbbbbbb');
    await store.put(key, '{"batchId":"20261120T060000000Z-bbbbbbbb","loads":[]}');

    const failure = batches.read('20261120T060000000Z-bbbbbbbb');

    await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(failure).rejects.toThrow(new RegExp(`^${key}: ✖ .+ → at createdAt; ✖ .+ → at loads$`));
    expect((await store.get(key))?.toString('utf8')).toBe(
      '{"batchId":"20261120T060000000Z-bbbbbbbb","loads":[]}',
    );
  });
});
