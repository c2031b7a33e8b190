import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { lakeKeys, legacyLakeKeys, partName, rawPrefix } from '../../../shared/lake/keys.js';
import {
  describeLakeProblem,
  sealLake,
  verifyLake,
  type LakeVerdict,
} from '../../../shared/lake/verify-lake.js';
import { storeWith } from './verify-lake.stores.js';
import {
  chartCsvKey,
  chartCsvOf,
  claim,
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

/** What `verify` says of the lake, each problem with its sentence. */
const problemsOf = (verdict: LakeVerdict) => verdict.days.flatMap((d) => d.problems);
const keysAndKinds = (verdict: LakeVerdict) => problemsOf(verdict).map(({ key, kind }) => ({ key, kind }));

const attributesPrefix = rawPrefix('song_attributes', day.chartDate, day.chartId);
const markersOf = async (store: ObjectStore) =>
  (await store.list(attributesPrefix)).map((o) => o.key).filter((key) => key.includes('/_done.'));
const partOf = (runId: string, half: readonly string[]) => {
  const part = partName(runId, half);
  return {
    part,
    raw: lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
    attributes: lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
    artists: lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
  };
};
const unlisted = (run: string | undefined, ...keys: string[]) =>
  keys.sort().map((key) => ({
    key,
    kind: 'unlisted',
    detail: `no manifest or part manifest lists it (${run === undefined ? "its rows are not one run's" : `rows of run ${run}`})`,
  }));

describe('Function: describeLakeProblem', () => {
  it('says a problem in one line: the key, the kind, and the detail in brackets', () => {
    expect(
      describeLakeProblem({
        key: 'raw/x/chart_songs.csv',
        kind: 'size',
        detail: '1042 bytes, the manifest says 2210',
      }),
    ).toBe('raw/x/chart_songs.csv: size (1042 bytes, the manifest says 2210)');
  });
});

describe('Function: verifyLake, what it says of each day', () => {
  let home: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-verify-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('lists only the prefixes of the day and chart asked for, not the whole of raw/', async () => {
    await landDay(store, run1, 'verified');
    const listed: string[] = [];
    const listing = storeWith(store, {
      list: (prefix) => {
        listed.push(prefix);
        return store.list(prefix);
      },
    });
    await verifyLake(listing, { from: day.chartDate, to: day.chartDate, chartId: day.chartId });
    expect(listed.filter((prefix) => prefix.startsWith('raw/'))).toEqual([
      rawPrefix('chart_songs', day.chartDate, day.chartId),
      attributesPrefix,
    ]);
  });

  it('gives the days in date order, then by chart, whichever dataset they were listed from', async () => {
    // Listed in this order: the chart files' days first, then the parts-only days.
    await store.put(lakeKeys.chartCsv('2026-11-20', 'global'), 'x');
    await store.put(lakeKeys.attributesRaw('2026-11-19', 'global', 'part-00'), 'x');
    await store.put(lakeKeys.attributesRaw('2026-11-20', 'br', 'part-00'), 'x');
    const verdict = await verifyLake(store);
    expect(verdict.days.map((d) => `${d.chartDate} ${d.chartId}`)).toEqual([
      '2026-11-19 global',
      '2026-11-20 br',
      '2026-11-20 global',
    ]);
  });

  it("says why a manifest is unreadable without repeating its key, and that a loaded day's manifest is gone", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await store.put(manifestKey, '{"runId": ');
    expect(problemsOf(await verifyLake(store))).toEqual([
      { key: manifestKey, kind: 'unreadable', detail: expect.stringMatching(/^not JSON \(/) as string },
    ]);
    await store.delete(manifestKey);
    expect(problemsOf(await verifyLake(store))).toEqual([
      { key: manifestKey, kind: 'missing', detail: 'the day was loaded, and its manifest is gone' },
    ]);
  });

  it('names a chart CSV cut in the middle of a row, or holding something else, instead of failing', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const chart = (await store.get(chartCsvKey))!.toString('utf8');
    await store.put(chartCsvKey, chart.slice(0, chart.length - 20));
    expect(keysAndKinds(await verifyLake(store))).toEqual([{ key: chartCsvKey, kind: 'size' }]);
    await store.put(chartCsvKey, 'not,a,chart\n');
    expect(keysAndKinds(await verifyLake(store))).toEqual([{ key: chartCsvKey, kind: 'size' }]);
  });

  it('does not take a chart CSV whose rows carry no run id for a re-run on its way', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await store.put(chartCsvKey, chartCsvOf('', ids));
    const verdict = await verifyLake(store);
    expect(keysAndKinds(verdict)).toEqual([{ key: chartCsvKey, kind: 'size' }]);
    expect(verdict.days[0]!.notes).toEqual([]);
  });

  it('says what is unverified in a day written before checksums: its manifest, its empty markers, and a chart CSV gone', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    await store.delete(chartCsvKey);
    const [firstMarker, secondMarker] = await markersOf(store);
    const marker = {
      kind: 'unverified',
      detail: 'an empty marker, written before part manifests had checksums: `verify --seal` records them',
    };
    expect(problemsOf(await verifyLake(store))).toEqual([
      {
        key: manifestKey,
        kind: 'unverified',
        detail: 'written before manifests had checksums: `verify --seal` records them',
      },
      // A manifest without files names no chart CSV: the one gone is named where such a day kept it.
      {
        key: legacyLakeKeys.chartCsv(day.chartDate, day.chartId),
        kind: 'missing',
        detail: "the manifest's chart CSV is gone",
      },
      { key: firstMarker, ...marker },
      { key: secondMarker, ...marker },
    ]);
  });

  it('says that a part of a day written before markers is unverified until sealed', async () => {
    const { first, second } = await landDay(store, run1, 'files');
    await claim(store, run1);
    const part = {
      kind: 'unverified',
      detail: 'a part of a day written before markers: `verify --seal` records it in the manifest',
    };
    expect(problemsOf(await verifyLake(store)).slice(1)).toEqual(
      [first.attributes, second.attributes].sort().map((key) => ({ key, ...part })),
    );
  });

  it('names a file among the parts that is not a part file, and a payload the manifest does not list', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    // A manifest that lists the chart CSV alone: the payload beside it is nobody's.
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as {
      files: { key: string }[];
    };
    await store.put(
      manifestKey,
      JSON.stringify({ ...manifest, files: manifest.files.filter((f) => f.key === chartCsvKey) }),
    );
    await store.put(`${attributesPrefix}notes.txt`, 'hello');
    expect(problemsOf(await verifyLake(store))).toEqual([
      { key: payloadKey, kind: 'unlisted', detail: 'the day has a manifest, and it does not list this file' },
      {
        key: `${attributesPrefix}notes.txt`,
        kind: 'unlisted',
        detail: 'no part manifest lists it, and it is not a part file',
      },
    ]);
  });

  it("does not report the payload of another run from the other source, beside the manifest's", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const inboxFile = lakeKeys.chartSourceFile(day.chartDate, day.chartId);
    await store.put(inboxFile, 'rank,uri\n1,spotify:track:t1\n');
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([
      `${inboxFile} is the payload of another run, from the other source (API or inbox); no load reads it`,
    ]);
  });

  it("still names a damaged part a sealed manifest lists while a re-run rewrites the day's chart", async () => {
    const { first } = await landDay(store, run1, 'files');
    await claim(store, run1);
    await sealLake(store);
    await landChart(store, run2, ['t9', 't8']);
    await store.put(first.attributes, 'x');
    const verdict = await verifyLake(store);
    expect(keysAndKinds(verdict)).toEqual([{ key: first.attributes, kind: 'size' }]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining(`run ${run2} is rewriting the day`)]);
  });

  it("takes an unmarked part of tracks the run's empty markers cover for a stopped delivery's", async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    await landPart(store, run1, ['t1', 't2', 't3'], 'files');
    const verdict = await verifyLake(store);
    expect(verdict.days[0]!.notes).toEqual([
      expect.stringContaining('other parts of the run hold its tracks'),
    ]);
  });

  it.each<Layout>(['keys', 'verified'])(
    "does not count the tracks of another run's %s marker among the manifest run's",
    async (layout) => {
      await landDay(store, run2, layout);
      await claim(store, run2);
      // The run's second part lost its marker; an earlier run's part holds the same tracks.
      const second = partOf(run2, ['t3', 't4']);
      const [lost] = (await markersOf(store)).filter((key) => key.includes(second.part));
      await store.delete(lost!);
      await landPart(store, run1, ['t3', 't4'], layout);
      expect(problemsOf(await verifyLake(store)).filter((p) => p.kind === 'unlisted')).toEqual(
        unlisted(run2, second.raw, second.attributes, second.artists),
      );
    },
  );

  it('names the parts of a day whose manifest is unreadable, by the run their rows are of, or as of no run', async () => {
    await landDay(store, run1, 'keys');
    await landPart(store, run1, ['t5'], 'files');
    await claim(store, run1);
    await store.put(manifestKey, '{');
    const verdict = await verifyLake(store);
    const part = partOf(run1, ['t5']);
    expect(problemsOf(verdict).filter((p) => p.kind === 'unlisted')).toEqual(
      unlisted(run1, part.raw, part.attributes, part.artists),
    );
    // Without its CSVs, nothing tells its run.
    await store.delete(part.attributes);
    await store.delete(part.artists);
    expect(problemsOf(await verifyLake(store)).filter((p) => p.kind === 'unlisted')).toEqual(
      unlisted(undefined, part.raw),
    );
    expect(problemsOf(await verifyLake(store)).map((p) => p.kind)).toEqual([
      'unreadable',
      'unverified',
      'unverified',
      'unlisted',
    ]);
  });

  it("names an unmarked part of a later run than the manifest's, even on a day decided from its files", async () => {
    await landDay(store, run1, 'files');
    await claim(store, run1);
    const later = await landPart(store, run2, ['t1', 't2'], 'files');
    expect(problemsOf(await verifyLake(store)).filter((p) => p.kind === 'unlisted')).toEqual(
      unlisted(run2, later.raw, later.attributes, later.artists),
    );
  });

  it("takes an unmarked part of the manifest's run for one under way while only an earlier run has claimed the day", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await landDay(store, run2, 'verified');
    await landPart(store, run2, ['t1', 't9'], 'files');
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([
      `${partName(run2, ['t1', 't9'])} of run ${run2} is not marked yet: the run is under way`,
    ]);
  });

  type Held = Record<'part' | 'runId' | 'chartId' | 'chartDate', string>;
  it.each<[string, (m: Held) => Held]>([
    ['another part', (m) => ({ ...m, part: partName(run1, ['t3', 't4']) })],
    ['another run', (m) => ({ ...m, runId: run2 })],
    ['another day', (m) => ({ ...m, chartDate: '2026-11-21' })],
    ['another chart', (m) => ({ ...m, chartId: 'br' })],
  ])('names a marker whose part manifest is of %s as unreadable, saying whose it is', async (_, edit) => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const [marker] = (await markersOf(store)).filter((key) => key.includes(partName(run1, ['t1', 't2'])));
    const held = edit(JSON.parse((await store.get(marker!))!.toString('utf8')) as Held);
    await store.put(marker!, JSON.stringify(held));
    expect(problemsOf(await verifyLake(store))).toEqual([
      {
        key: marker,
        kind: 'unreadable',
        detail: `it names ${held.part} of run ${held.runId} (${held.chartId} ${held.chartDate}), not its own part`,
      },
    ]);
  });

  it("says why a marker is unreadable without repeating its key; a store's failure to read it fails verify", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const [marker] = await markersOf(store);
    await store.put(marker!, JSON.stringify({ runId: run1 }));
    const [problem] = problemsOf(await verifyLake(store));
    expect(problem).toMatchObject({ key: marker, kind: 'unreadable' });
    expect(problem!.detail).toMatch(/^✖ /);

    const failing = storeWith(store, {
      get: (key) => (key === marker ? Promise.reject(new Error('disk failure')) : store.get(key)),
    });
    await expect(verifyLake(failing)).rejects.toThrow('disk failure');
  });
});
