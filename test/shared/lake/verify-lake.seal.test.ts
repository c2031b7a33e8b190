import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { lakeKeys, partName, rawPrefix } from '../../../shared/lake/keys.js';
import { lakeFileOf } from '../../../shared/lake/lake-files.js';
import { coverageOf, md5Of, partDigest } from '../../../shared/lake/part-markers.js';
import { sealLake, verifyLake } from '../../../shared/lake/verify-lake.js';
import { noteContentTypes } from './store-doubles.js';
import { storeWith } from './verify-lake.stores.js';
import {
  chartCsvKey,
  chartCsvOf,
  claim,
  day,
  ids,
  landDay,
  landPart,
  manifestKey,
  payloadKey,
  run1,
  run2,
} from '../../support/landed-days.js';

const attributesPrefix = rawPrefix('song_attributes', day.chartDate, day.chartId);
const markersOf = async (store: ObjectStore) =>
  (await store.list(attributesPrefix)).map((o) => o.key).filter((key) => key.includes('/_done.'));

/** An empty marker, as track-attributes wrote them before part manifests, over a part's CSVs as they are now. */
const markAs = async (
  store: ObjectStore,
  runId: string,
  half: readonly string[],
  indexes: readonly number[],
  part = partName(runId, half),
) => {
  const attributes = (await store.get(lakeKeys.attributesCsv(day.chartDate, day.chartId, part)))!;
  const artists = (await store.get(lakeKeys.artistsCsv(day.chartDate, day.chartId, part)))!;
  const key = lakeKeys.partMarker(
    day.chartDate,
    day.chartId,
    runId,
    part,
    partDigest(md5Of(attributes), md5Of(artists)),
    coverageOf(indexes),
  );
  await store.put(key, '');
  return key;
};

describe('Function: sealLake, what it seals and what it leaves', () => {
  let home: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-seal-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('seals nothing of a day that has no manifest yet', async () => {
    await landPart(store, run1, ['t1'], 'files');
    expect(await sealLake(store)).toEqual([]);
  });

  it('says that a manifest it cannot read cannot be sealed', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    await store.put(manifestKey, '{');
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual([
      { key: manifestKey, why: 'the manifest cannot be read: there is nothing to seal it to' },
    ]);
    expect(seal!.sealed).toEqual([]);
  });

  it('says nothing of a verified day whose run has not claimed its load: there is nothing to seal', async () => {
    await landDay(store, run1, 'verified');
    expect(await sealLake(store)).toEqual([]);
  });

  it('seals the empty markers of a day whose manifest has checksums, and leaves the manifest as it is', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as Record<string, unknown>;
    const files = [
      lakeFileOf(payloadKey, (await store.get(payloadKey))!, null),
      lakeFileOf(chartCsvKey, (await store.get(chartCsvKey))!, ids.length),
    ];
    await store.put(manifestKey, JSON.stringify({ ...manifest, files }));
    const before = await store.get(manifestKey);
    const markers = await markersOf(store);
    expect(await sealLake(store)).toEqual([
      { ...day, sealed: markers.map((key) => ({ key, files: 3 })), skipped: [] },
    ]);
    expect(await store.get(manifestKey)).toEqual(before);
  });

  it('writes what it seals as JSON', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    const { store: noted, contentTypes } = noteContentTypes(store);
    await sealLake(noted);
    const markers = await markersOf(store);
    expect(Object.fromEntries(contentTypes)).toEqual(
      Object.fromEntries([manifestKey, ...markers].map((key) => [key, 'application/json'])),
    );
  });

  it('leaves a manifest a run rewrites while it is sealed to that run, and says so', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    let rewritten = false;
    const racing = storeWith(store, {
      get: async (key) => {
        if (key === chartCsvKey && !rewritten) {
          rewritten = true;
          await store.put(manifestKey, (await store.get(manifestKey))!.toString('utf8') + '\n');
        }
        return store.get(key);
      },
    });
    const [seal] = await sealLake(racing);
    expect(seal!.skipped).toEqual([
      { key: manifestKey, why: 'the manifest changed while it was sealed (a run rewrote the day)' },
    ]);
    expect(seal!.sealed.map((s) => s.key)).toEqual(await markersOf(store));
  });

  it.each([
    ['written', (s: ObjectStore, key: string) => s.put(key, '{"runId": "x"}')],
    ['deleted', (s: ObjectStore, key: string) => s.delete(key)],
  ])('leaves a marker %s while it is sealed, and says so', async (_, change) => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    const [first, second] = await markersOf(store);
    const racing = storeWith(store, {
      getWithEtag: async (key) => {
        if (key === first) await change(store, key);
        return store.getWithEtag(key);
      },
    });
    const [seal] = await sealLake(racing);
    expect(seal!.sealed.map((s) => s.key)).toEqual([manifestKey, second]);
    expect(seal!.skipped).toEqual([{ key: first, why: 'the marker changed while it was sealed' }]);
  });

  it.each([
    ['gone', undefined, 'its chart CSV is gone'],
    ['not a chart CSV', 'rank,uri\n1,x\n', 'its chart CSV is not a chart CSV any more'],
    ['cut in a row', chartCsvOf(run1, ids).slice(0, -20), 'its chart CSV is not a chart CSV any more'],
    [
      'of no row',
      chartCsvOf(run1, []),
      `its chart CSV holds rows of another run than the manifest's (${run1})`,
    ],
    [
      'of two runs',
      chartCsvOf(run1, ['t1', 't2']) + chartCsvOf(run2, ['t3', 't4']).split('\n').slice(1).join('\n'),
      `its chart CSV holds rows of another run than the manifest's (${run1})`,
    ],
    [
      "a re-run's",
      chartCsvOf(run2, ids),
      `its chart CSV holds rows of another run than the manifest's (${run1})`,
    ],
    [
      'of other tracks, as many',
      chartCsvOf(run1, ['t1', 't2', 't3', 't9']),
      "its chart CSV's tracks are not the manifest's: it changed since its run wrote it",
    ],
  ])('does not seal a manifest whose chart CSV is %s, and says why', async (_, chart, why) => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    if (chart === undefined) await store.delete(chartCsvKey);
    else await store.put(chartCsvKey, chart);
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual([{ key: manifestKey, why }]);
    expect(seal!.sealed.map((s) => s.key)).toEqual(await markersOf(store));
  });

  it.each([
    ['gone', undefined],
    ['not a song_artists CSV', 'a,b\n1,2\n'],
  ])(
    "does not seal a day decided from its files whose part's artists CSV is %s, and says which",
    async (_, artists) => {
      const { second } = await landDay(store, run1, 'files');
      await claim(store, run1);
      if (artists === undefined) await store.delete(second.artists);
      else await store.put(second.artists, artists);
      const [seal] = await sealLake(store);
      expect(seal!.skipped).toEqual([
        {
          key: manifestKey,
          why: `${partName(run1, ['t3', 't4'])}: ${second.artists} is gone, or is not a song_artists CSV`,
        },
      ]);
    },
  );

  it("seals a day decided from its files with its run's parts only, with what they hold, the raw answer where it is kept", async () => {
    const { first } = await landDay(store, run2, 'files');
    await claim(store, run2);
    await landPart(store, run1, ['t1', 't2'], 'files');
    await store.delete(first.raw);
    // Files among the parts that are no part's: a note, and a CSV of the run's rows named like no part.
    await store.put(`${attributesPrefix}notes.txt`, 'hello');
    await store.put(`${attributesPrefix}undefined.song_attributes.csv`, (await store.get(first.attributes))!);
    expect(await sealLake(store)).toEqual([
      { ...day, sealed: [{ key: manifestKey, files: 2 + 2 + 3 }], skipped: [] },
    ]);
  });

  it("says a sealed day's manifest cannot hold a part of its run that it does not list", async () => {
    await landDay(store, run1, 'files');
    await claim(store, run1);
    await sealLake(store);
    await landPart(store, run1, ['t1', 't9'], 'files');
    expect(await sealLake(store)).toEqual([
      {
        ...day,
        sealed: [],
        skipped: [{ key: manifestKey, why: expect.stringContaining('too long for part markers') as string }],
      },
    ]);
  });

  it.each([
    ['its attributes CSV', 'attributes'],
    ['its artists CSV', 'artists'],
  ] as const)('does not seal a marker whose part lost %s, and says so', async (_, which) => {
    const { first } = await landDay(store, run1, 'keys');
    await claim(store, run1);
    await store.delete(first[which]);
    const [seal] = await sealLake(store);
    const [marker] = (await markersOf(store)).filter((key) => key.includes(partName(run1, ['t1', 't2'])));
    expect(seal!.skipped).toEqual([{ key: marker, why: "the part's CSVs are gone" }]);
  });

  it("does not seal a marker over CSVs whose rows are not all its run's, or not a song_attributes CSV", async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    await landPart(store, run1, ['t5'], 'files');
    const otherRun = await markAs(store, run2, ['t5'], [0], partName(run1, ['t5']));
    const garbled = partName(run1, ['t6']);
    await landPart(store, run1, ['t6'], 'files');
    await store.put(lakeKeys.attributesCsv(day.chartDate, day.chartId, garbled), 'a,b\n1,2\n');
    const notCsv = await markAs(store, run1, ['t6'], [0]);
    // A part whose CSV holds a row of its run and one of another.
    const mixed = await landPart(store, run1, ['t7'], 'files');
    const another = await landPart(store, run2, ['t8'], 'files');
    const [, otherRow] = (await store.get(another.attributes))!.toString('utf8').split('\n');
    await store.put(
      mixed.attributes,
      `${(await store.get(mixed.attributes))!.toString('utf8')}${otherRow}\n`,
    );
    const twoRuns = await markAs(store, run1, ['t7'], [0]);
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual(
      [
        { key: otherRun, why: `the part's rows are not all of its run ${run2}` },
        { key: notCsv, why: `the part's rows are not all of its run ${run1}` },
        { key: twoRuns, why: `the part's rows are not all of its run ${run1}` },
      ].sort((a, b) => a.key.localeCompare(b.key)),
    );
  });

  it("does not seal a marker of the manifest's run whose coverage is not its part's tracks; another run's coverage is its own", async () => {
    await landDay(store, run2, 'keys');
    await claim(store, run2);
    // Of the manifest's run: it says it holds t1 and t2 (indexes 0, 1), its rows are t1 and t3.
    await landPart(store, run2, ['t1', 't3'], 'files');
    const wrong = await markAs(store, run2, ['t1', 't3'], [0, 1]);
    // Of an earlier run, whose manifest had other tracks: its indexes are not the manifest's.
    await landPart(store, run1, ['t1', 't2'], 'files');
    const earlier = await markAs(store, run1, ['t1', 't2'], [2, 3]);
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual([
      { key: wrong, why: "the part's tracks are not the ones its marker covers" },
    ]);
    expect(seal!.sealed).toContainEqual({ key: earlier, files: 3 });
  });

  it("does not seal a marker whose part's artists CSV is not one, though the marker's digest names it", async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    const part = await landPart(store, run1, ['t1'], 'files');
    await store.put(part.artists, 'a,b\n1,2\n');
    const marker = await markAs(store, run1, ['t1'], [0]);
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual([
      { key: marker, why: `${part.artists} is gone, or is not a song_artists CSV` },
    ]);
  });

  it('seals a marker whose part has no raw answer kept with its two CSVs', async () => {
    const { first } = await landDay(store, run1, 'keys');
    await claim(store, run1);
    await store.delete(first.raw);
    const [seal] = await sealLake(store);
    expect(seal!.sealed.map((s) => s.files)).toEqual([2, 2, 3]);
    expect((await verifyLake(store)).days[0]!.problems).toEqual([]);
  });

  it('never writes a part manifest its schema refuses: the seal fails, naming the part', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    // Another run's part (its coverage is its own manifest's, not checked here) whose rows hold an id that is no track id.
    const part = partName(run2, ['not-a-track']);
    await landPart(store, run2, ['not-a-track'], 'files');
    const marker = await markAs(store, run2, ['not-a-track'], [0]);
    await expect(sealLake(store)).rejects.toThrow(`the manifest of ${part}: `);
    expect((await store.get(marker))!.byteLength).toBe(0);
  });
});
