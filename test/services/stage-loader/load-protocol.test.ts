import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { daysOfKeys, loadCompletedDays } from '../../../services/stage-loader/load-completed-days.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { PutOptions } from '../../../shared/ports/object-store.js';
import type { StageLoad, StageSlice } from '../../../shared/ports/warehouse.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { lakeKeys, rawPrefix } from '../../../shared/lake/keys.js';
import { lakeFileOf } from '../../../shared/lake/lake-files.js';
import { RunRecords } from '../../../shared/lake/run-records.js';
import type { PartManifest } from '../../../shared/lake/part-markers.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import type { Manifest } from '../../../shared/records/messages.js';
import {
  chartCsvKey,
  chartCsvOf,
  day,
  ids,
  landChart,
  landDay,
  landPart,
  manifestKey,
  payloadKey,
  run1,
  run2,
  type Layout,
} from '../../support/landed-days.js';

/** A run before {@link run1}: its ids sort lower, as run ids sort by the time they started. */
const run0 = '20261120T050000000Z-aaaa0000';
const claimKey = lakeKeys.claim(day.chartDate, day.chartId, run1);

/** The folder store, with what the loader asks of it written down. */
class SpyStore extends FsObjectStore {
  /** Keys read whole (`get`). */
  readonly read: string[] = [];
  /** Keys hashed (`checksum`): each is a HEAD on S3. */
  readonly hashed: string[] = [];
  /** Prefixes listed. */
  readonly listed: string[] = [];
  /** The claims created, as they were asked to be stored. */
  readonly created: { key: string; body: string; options: PutOptions | undefined }[] = [];
  /** Called with a prefix once its listing is made, before the caller sees it. */
  afterList: ((prefix: string) => Promise<void>) | undefined;
  /** Writes under this prefix fail, as on a store having a bad moment. */
  failPutsUnder: string | undefined;

  override async put(key: string, body: string | Uint8Array) {
    if (this.failPutsUnder !== undefined && key.startsWith(this.failPutsUnder))
      throw new Error(`the store is having a bad moment: put ${key}`);
    return super.put(key, body);
  }

  override async get(key: string) {
    this.read.push(key);
    return super.get(key);
  }

  override async checksum(key: string) {
    this.hashed.push(key);
    return super.checksum(key);
  }

  override async list(prefix: string) {
    this.listed.push(prefix);
    const listing = await super.list(prefix);
    await this.afterList?.(prefix);
    return listing;
  }

  override async createIfAbsent(key: string, body: string | Uint8Array, options?: PutOptions) {
    this.created.push({ key, body: Buffer.from(body).toString('utf8'), options });
    return super.createIfAbsent(key, body);
  }

  /** Forgets what was asked so far. */
  forget() {
    for (const seen of [this.read, this.hashed, this.listed, this.created]) seen.length = 0;
  }
}

/** The DuckDB warehouse, with each load it is handed written down; its clean-ups can be made to fail. */
class SpyWarehouse extends DuckDbWarehouse {
  readonly loads: StageLoad[] = [];
  readonly cleans: (readonly StageSlice[])[] = [];
  failCleans = false;

  override async loadStage(load: StageLoad) {
    this.loads.push(load);
    return super.loadStage(load);
  }

  override async cleanStage(slices: readonly StageSlice[]) {
    this.cleans.push(slices);
    if (this.failCleans) throw new Error('the warehouse is having a bad moment');
    return super.cleanStage(slices);
  }
}

describe('stage-loader: the claim, completeness and load protocol', () => {
  let home: string;
  let store: SpyStore;
  let warehouse: SpyWarehouse;
  let published: BusEvent[];
  const deps = () => ({
    store,
    warehouse,
    bus: { publish: async (event: BusEvent) => void published.push(event) },
    clock: systemClock,
  });
  const decide = () => loadCompletedDays([manifestKey], deps());
  const stageRows = async (table = 'chart_songs') =>
    Number((await warehouse.query<{ n: number }>(`select count(*) as n from stage.${table}`))[0]?.n ?? 0);
  const readJson = async <T>(key: string) => JSON.parse((await store.get(key))!.toString('utf8')) as T;
  const markersOf = async () =>
    (await store.list(rawPrefix('song_attributes', day.chartDate, day.chartId)))
      .map((o) => o.key)
      .filter((key) => key.includes('/_done.'));
  /** Rewrites the manifest, as a writer that recorded other things would have written it. */
  const editManifest = async (edit: (manifest: Manifest) => Manifest) =>
    store.put(manifestKey, JSON.stringify(edit(await readJson<Manifest>(manifestKey))));
  /** Rewrites a part's marker (its manifest) under the same key. */
  const editPartManifest = async (markerKey: string, edit: (part: PartManifest) => PartManifest) =>
    store.put(markerKey, JSON.stringify(edit(await readJson<PartManifest>(markerKey))));

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-protocol-'));
    store = new SpyStore({ root: path.join(home, 'lake') });
    warehouse = new SpyWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    await warehouse.ensureStage();
    published = [];
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  describe('the days of an event', () => {
    it('takes only raw keys for days: a control or inbox key among them touches none', async () => {
      const keys = ['control/claims/date=2026-11-20/chart=global/run=x.json', 'inbox/charts/a.csv'];
      expect(daysOfKeys([...keys, manifestKey, chartCsvKey])).toEqual([day]);
      expect(await loadCompletedDays(keys, deps())).toEqual([]);
    });

    it('finds a day without a manifest incomplete, how much is missing unknown', async () => {
      await landChart(store, run1, ids);
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: null }]);
    });
  });

  describe('the claim', () => {
    it('claims a complete day with a JSON object naming its run and load, and records how long the COPY took', async () => {
      await landDay(store, run1, 'verified');
      const [decision] = await decide();
      expect(decision).toMatchObject({ outcome: 'loaded', runId: run1 });
      const loadId = (decision as { loadId: string }).loadId;
      expect(store.created).toEqual([
        { key: claimKey, body: expect.any(String), options: { contentType: 'application/json' } },
      ]);
      expect(JSON.parse(store.created[0]!.body)).toEqual({
        runId: run1,
        loadId,
        claimedAt: expect.any(String),
      });
      const [record] = await new RunRecords(store).list(day);
      expect(record!.timings.loadMs).toBeGreaterThanOrEqual(0);
      expect(record!.timings.loadMs).toBeLessThan(60_000);
    });

    it('does not take a copy of the claim set aside (run=….json.bak) for the claim: a damaged day is refused', async () => {
      await landDay(store, run1, 'verified');
      await store.put(`${claimKey}.bak`, JSON.stringify({ runId: run1 }));
      await store.put(chartCsvKey, chartCsvOf(run0, ids));
      expect(await decide()).toMatchObject([
        { outcome: 'refused', problems: [{ key: chartCsvKey, kind: 'checksum' }] },
      ]);
    });

    it('gives the claim back after five tries of a stage clean-up that keeps failing', async () => {
      await landDay(store, run1, 'verified');
      warehouse.failCleans = true;
      // The run record cannot be written: the load fails after its claim, and is given back.
      store.failPutsUnder = 'control/runs/';
      await expect(decide()).rejects.toThrow(/bad moment/);
      expect(warehouse.cleans).toEqual(Array.from({ length: 5 }, () => [{ runId: run1, ...day }]));
      expect(await store.get(claimKey)).toBeUndefined();
    });
  });

  describe('the rows a COPY loads, held to the manifests', () => {
    it('refuses a load whose COPY gets other rows than the part manifests count, naming the table, and leaves the stage empty', async () => {
      await landDay(store, run1, 'verified');
      const [first] = await markersOf();
      await editPartManifest(first!, (part) => ({
        ...part,
        files: part.files.map((f) => (f.key.startsWith('tables/song_attributes/') ? { ...f, rows: 3 } : f)),
      }));
      const problem = {
        key: 'stage.song_attributes',
        kind: 'checksum',
        detail: 'COPY loaded 4 rows, the manifests count 5',
      };
      expect(await decide()).toEqual([
        { outcome: 'refused', day, runId: run1, loadId: expect.any(String), problems: [problem] },
      ]);
      for (const table of ['chart_songs', 'song_attributes', 'song_artists'])
        expect(await stageRows(table)).toBe(0);
      expect(await new RunRecords(store).list(day)).toMatchObject([
        { status: 'not_loaded', damagedFiles: [problem] },
      ]);
      expect(published).toEqual([]);
    });

    it('holds a CSV whose manifest does not count its rows (rows null) to its bytes only', async () => {
      await landDay(store, run1, 'verified');
      await editManifest((manifest) => ({
        ...manifest,
        files: manifest.files!.map((f) => (f.key === chartCsvKey ? { ...f, rows: null } : f)),
      }));
      expect(await decide()).toMatchObject([{ outcome: 'loaded', rows: { chart_songs: 4 } }]);
    });

    it('refuses a part whose CSV is not what its manifest says, though the digest in its key still matches', async () => {
      const { first } = await landDay(store, run1, 'verified');
      const [marker] = await markersOf();
      // The manifest holds the CSVs to a SHA-256 that is not theirs; the listing sees nothing changed.
      await editPartManifest(marker!, (part) => ({
        ...part,
        files: part.files.map((f) => (f.key === first.attributes ? { ...f, sha256: 'f'.repeat(64) } : f)),
      }));
      expect(await decide()).toMatchObject([
        { outcome: 'refused', problems: [{ key: first.attributes, kind: 'checksum' }] },
      ]);
      expect(await stageRows()).toBe(0);
    });
  });

  describe('a verified day with a part marked before part manifests (an empty marker)', () => {
    const landMixedDay = async () => {
      const landed = await landDay(store, run1, 'verified');
      const [first, second] = await markersOf();
      await editPartManifest(first!, (part) => ({ ...part, requests: { spotify: 1 }, quarantined: 1 }));
      await store.put(second!, '');
      await editManifest((manifest) => ({ ...manifest, requests: { spotify: 3 }, quarantined: 2 }));
      return landed;
    };

    it('loads it, the part without a manifest unverified, and counts the quarantined its manifests know', async () => {
      await landMixedDay();
      expect(await decide()).toMatchObject([
        { outcome: 'loaded', rows: { chart_songs: 4, song_attributes: 4, song_artists: 4 } },
      ]);
      const [record] = await new RunRecords(store).list(day);
      // The requests are unknown (a part did not keep them); the quarantined are what is known.
      expect(record!.landing).toEqual({ quarantined: 3 });
    });

    it('waits for that part when its CSV is gone', async () => {
      const { second } = await landMixedDay();
      await store.delete(second.attributes);
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
    });
  });

  it('decides a chart too long for markers (no chartCsvMd5) from its files, and records only the quarantined of its landing', async () => {
    const many = Array.from({ length: 401 }, (_, i) => `t${i}`);
    const { payload, chartCsv } = await landChart(store, run1, many);
    const manifest: Manifest = {
      runId: run1,
      ...day,
      source: 't',
      extractedAt: '2026-11-20T06:00:00.000Z',
      trackIds: many,
      skipped: [],
      files: [lakeFileOf(payloadKey, payload, null), lakeFileOf(chartCsvKey, chartCsv, many.length)],
      requests: { spotify: 2 },
      quarantined: 1,
    };
    await store.put(manifestKey, JSON.stringify(manifest));
    await landPart(store, run1, many.slice(0, 200), 'files', many);
    await landPart(store, run1, many.slice(200), 'files', many);
    expect(await decide()).toMatchObject([
      { outcome: 'loaded', rows: { chart_songs: 401, song_attributes: 401, song_artists: 401 } },
    ]);
    const [record] = await new RunRecords(store).list(day);
    // The parts have no markers, so what their landing took is unknown: the requests too.
    expect(record!.landing).toEqual({ quarantined: 1 });
  });

  it('leaves the requests unknown when the chart’s manifest did not keep them, though every part did', async () => {
    await landDay(store, run1, 'verified');
    for (const marker of await markersOf())
      await editPartManifest(marker, (part) => ({ ...part, requests: { spotify: 1 }, quarantined: 1 }));
    await editManifest((manifest) => ({ ...manifest, quarantined: 2 }));
    expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
    const [record] = await new RunRecords(store).list(day);
    expect(record!.landing).toEqual({ quarantined: 4 });
  });

  describe('what deciding a day costs', () => {
    it.each<[string, (landed: Awaited<ReturnType<typeof landDay>>) => Promise<void>]>([
      ['a part CSV edited', async ({ first }) => store.put(first.attributes, 'not the part any more')],
      [
        'the chart CSV cut',
        async () => store.put(chartCsvKey, (await store.get(chartCsvKey))!.subarray(0, 200)),
      ],
    ])(
      'a day refused for %s: its later events find the claim taken, reading and hashing no file again',
      async (_what, damage) => {
        await damage(await landDay(store, run1, 'verified'));
        expect(await decide()).toMatchObject([{ outcome: 'refused' }]);
        store.forget();
        expect(await decide()).toEqual([{ outcome: 'already_claimed', day, runId: run1 }]);
        expect(store.read).toEqual([manifestKey]);
        expect(store.hashed).toEqual([]);
      },
    );

    it.each<Layout>(['verified', 'keys'])(
      'a usual day (%s) is decided without looking for its claim, and its chart CSV is not read',
      async (layout) => {
        await landDay(store, run1, layout);
        store.forget();
        expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
        expect(store.listed.filter((prefix) => prefix.startsWith('control/claims/'))).toEqual([]);
        expect(store.read).not.toContain(chartCsvKey);
        expect(store.read.filter((key) => !key.includes('/_done.'))).toEqual([manifestKey]);
      },
    );

    it('an unverified day (keys) whose part CSVs are gone waits for them, reading only its manifest', async () => {
      const { second } = await landDay(store, run1, 'keys');
      await store.delete(second.attributes);
      await store.delete(second.artists);
      store.forget();
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
      expect(store.read).toEqual([manifestKey]);
    });

    it.each<Layout>(['keys', 'files'])(
      'a day (%s) waiting for its parts does not read its chart CSV, changed or not',
      async (layout) => {
        const { second } = await landDay(store, run1, layout);
        await store.delete(second.attributes);
        await store.put(chartCsvKey, chartCsvOf(run1, ids).replace('n0', 'hand-edited'));
        store.forget();
        expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
        expect(store.read).not.toContain(chartCsvKey);
      },
    );
  });

  describe('whose chart CSV it is', () => {
    /** A chart CSV whose row `index` (1 is the first, after the header) is another run's. */
    const rowOf = (csv: string, index: number, from: string, to: string) => {
      const lines = csv.split('\n');
      lines[index] = lines[index]!.replace(from, to);
      return lines.join('\n');
    };
    /**
     * What is in the lake under the chart CSV's key, and how a day of each layout decides it: the
     * kind of problem it is refused for, or incomplete (the day waits).
     */
    const charts: [string, () => string | undefined, { verified: string; unverified: string }][] = [
      ['gone', () => undefined, { verified: 'missing', unverified: 'incomplete' }],
      [
        'cut to its header',
        () => `${chartCsvOf(run1, ids).split('\n')[0]!}\n`,
        { verified: 'size', unverified: 'incomplete' },
      ],
      [
        'holding one row of an earlier run',
        () => rowOf(chartCsvOf(run1, ids), 2, run1, run0),
        { verified: 'checksum', unverified: 'incomplete' },
      ],
      [
        'rewritten by an earlier run',
        () => chartCsvOf(run0, ids),
        { verified: 'checksum', unverified: 'incomplete' },
      ],
      [
        'mixing a later run’s rows (first) with an earlier run’s',
        () => rowOf(chartCsvOf(run0, ids), 1, run0, run2),
        { verified: 'checksum', unverified: 'incomplete' },
      ],
      // A later run writes its chart CSV before its manifest: the day waits for it, refusing nothing.
      [
        'rewritten by a later run',
        () => chartCsvOf(run2, ids),
        { verified: 'incomplete', unverified: 'incomplete' },
      ],
    ];

    describe.each<Layout>(['verified', 'keys', 'files'])(
      'a complete day (%s) whose chart CSV is',
      (layout) => {
        it.each(charts)('%s', async (_what, chart, expected) => {
          await landDay(store, run1, layout);
          const body = chart();
          if (body === undefined) await store.delete(chartCsvKey);
          else await store.put(chartCsvKey, body);
          const outcome = layout === 'verified' ? expected.verified : expected.unverified;
          if (outcome === 'incomplete') {
            expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 0 }]);
          } else {
            expect(await decide()).toMatchObject([
              { outcome: 'refused', problems: [{ key: chartCsvKey, kind: outcome }] },
            ]);
          }
          expect(await stageRows()).toBe(0);
        });
      },
    );

    it('does not take a copy of the run’s chart CSV beside it (chart_songs.csv.bak) for it', async () => {
      await landDay(store, run1, 'keys');
      await store.put(`${chartCsvKey}.bak`, (await store.get(chartCsvKey))!);
      await store.put(chartCsvKey, chartCsvOf(run2, ids));
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 0 }]);
    });

    it('does not let such a copy vouch for a damaged chart CSV of a verified day', async () => {
      await landDay(store, run1, 'verified');
      await store.put(`${chartCsvKey}.bak`, (await store.get(chartCsvKey))!);
      await store.put(chartCsvKey, chartCsvOf(run0, ids));
      expect(await decide()).toMatchObject([
        { outcome: 'refused', problems: [{ key: chartCsvKey, kind: 'checksum' }] },
      ]);
    });

    it('does not hold a chart CSV that the manifest does not list: edited, but still the run’s, it loads', async () => {
      await landDay(store, run1, 'verified');
      await editManifest((manifest) => ({
        ...manifest,
        files: manifest.files!.filter((f) => f.key !== chartCsvKey),
      }));
      await store.put(chartCsvKey, chartCsvOf(run1, ids).replace('n0', 'hand-edited'));
      expect(await decide()).toMatchObject([{ outcome: 'loaded', rows: { chart_songs: 4 } }]);
    });
  });

  describe('the parts of the run', () => {
    const lineage = (runId: string) => ({
      chart_id: day.chartId,
      chart_date: day.chartDate,
      run_id: runId,
      extracted_at: '2026-11-20 06:00:00.000',
    });
    const attributeRows = async () =>
      warehouse.query<{ run_id: string; track_id: string }>(
        'select run_id, track_id from stage.song_attributes order by track_id',
      );

    it('loads none of a part rewritten by another run (keys), when the run’s other parts cover its tracks', async () => {
      const { second } = await landDay(store, run1, 'keys');
      await store.put(
        second.attributes,
        toStageCsv(
          'song_attributes',
          ['t3', 't4'].map((id) => ({ ...lineage(run0), track_id: id, enrichment_status: 'ok' })),
        ),
      );
      // The run's tracks t3 and t4 landed again, in a part with t1 (a redelivered batch regrouped).
      await landPart(store, run1, ['t1', 't3', 't4'], 'keys');
      expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
      expect(await attributeRows()).toEqual(
        ['t1', 't1', 't2', 't3', 't4'].map((track_id) => ({ run_id: run1, track_id })),
      );
    });

    it('hands the warehouse the parts in key order, a part edited by hand (keys) among them', async () => {
      const { first, second } = await landDay(store, run1, 'keys');
      // The part whose key sorts first is edited (still the run's rows): it is read, and told the run's.
      const [edited] = [first, second].sort((a, b) => a.attributes.localeCompare(b.attributes));
      const body = (await store.get(edited!.attributes))!.toString('utf8');
      await store.put(
        edited!.attributes,
        body.replaceAll('"ok"', '"missing"').replaceAll(',ok,', ',missing,'),
      );
      expect((await store.get(edited!.attributes))!.toString('utf8')).not.toEqual(body);
      expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
      const keys = [first.attributes, second.attributes].sort();
      expect(warehouse.loads.map((load) => load.files.song_attributes)).toEqual([keys]);
      expect(warehouse.loads[0]!.files.song_artists).toEqual(
        keys.map((key) => key.replace('tables/song_attributes/', 'tables/song_artists/')),
      );
    });

    it('does not count a part (files) whose artists CSV is not there', async () => {
      const { first } = await landDay(store, run1, 'files');
      await store.delete(first.artists);
      expect(await decide()).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
    });

    it('leaves out a part (files) deleted between the listing and its read, and loads the others', async () => {
      await landDay(store, run1, 'files');
      const extra = await landPart(store, run1, ['t2', 't3', 't4'], 'files');
      store.afterList = async (prefix) => {
        if (prefix.startsWith('tables/song_attributes/')) await store.delete(extra.attributes);
      };
      expect(await decide()).toMatchObject([{ outcome: 'loaded' }]);
      expect(await attributeRows()).toEqual(ids.map((track_id) => ({ run_id: run1, track_id })));
    });
  });
});
