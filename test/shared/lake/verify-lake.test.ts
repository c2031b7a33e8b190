import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { lakeKeys, partName, rawPrefix } from '../../../shared/lake/keys.js';
import { lakeFileOf } from '../../../shared/lake/lake-files.js';
import {
  lakeIsSound,
  sealLake,
  verifyLake,
  type LakeProblem,
  type LakeVerdict,
} from '../../../shared/lake/verify-lake.js';
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

const problemsOf = (verdict: LakeVerdict) =>
  verdict.days.flatMap((d) => d.problems).map(({ key, kind }) => ({ key, kind }));

const kindsOf = (verdict: LakeVerdict): LakeProblem['kind'][] =>
  verdict.days.flatMap((d) => d.problems.map((p) => p.kind));

describe('Function: verifyLake', () => {
  let home: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-verify-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('passes a verified day, every file of the manifest and of each part manifest checked', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.checked).toBe(2 + 2 * 3);
    expect(verdict.days).toMatchObject([{ ...day, runId: run1, notes: [] }]);
    expect(lakeIsSound(verdict)).toBe(true);
  });

  it('names each damaged, missing and unlisted file, and nothing else', async () => {
    const { first, second } = await landDay(store, run1, 'verified');
    await claim(store, run1);
    // The chart cut at a line boundary; a popularity edited in place (same size); a part's CSV gone.
    const chart = (await store.get(chartCsvKey))!.toString('utf8');
    await store.put(chartCsvKey, chart.split('\n').slice(0, 3).join('\n') + '\n');
    const attributes = (await store.get(second.attributes))!.toString('utf8');
    await store.put(second.attributes, attributes.replace(',88,', ',42,'));
    await store.delete(first.artists);
    // Files that nobody lists: a copy beside the chart, a stray file among the parts.
    await store.put(`${chartCsvKey}.bak`, chart);
    await store.put(`${rawPrefix('song_attributes', day.chartDate, day.chartId)}notes.txt`, 'hello');

    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([
      { key: chartCsvKey, kind: 'size' },
      { key: `${chartCsvKey}.bak`, kind: 'unlisted' },
      { key: first.artists, kind: 'missing' },
      { key: second.attributes, kind: 'checksum' },
      { key: `${rawPrefix('song_attributes', day.chartDate, day.chartId)}notes.txt`, kind: 'unlisted' },
    ]);
    expect(lakeIsSound(verdict)).toBe(false);
  });

  it('names an unreadable manifest and an unreadable part manifest without stopping', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await store.put(manifestKey, '{"runId": "not a manifest"');
    const [marker] = (await store.list(rawPrefix('song_attributes', day.chartDate, day.chartId))).filter(
      (o) => o.key.includes('/_done.'),
    );
    await store.put(marker!.key, JSON.stringify({ runId: run1 }));
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([
      { key: manifestKey, kind: 'unreadable' },
      { key: marker!.key, kind: 'unreadable' },
    ]);
    expect(verdict.days[0]!.problems[0]!.detail).toMatch(/not JSON/);
  });

  it('names the manifest of a loaded day that is gone', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await store.delete(manifestKey);
    expect(problemsOf(await verifyLake(store))).toEqual([{ key: manifestKey, kind: 'missing' }]);
  });

  it('does not report a re-run on its way: its chart CSV and payload written, its manifest not yet', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await landChart(store, run2, ['t9', 't8']);
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining(`run ${run2} is rewriting the day`)]);
  });

  it('still reports a chart CSV rewritten with rows of an earlier run', async () => {
    await landDay(store, run2, 'verified');
    await claim(store, run2);
    await store.put(chartCsvKey, chartCsvOf(run1, ids));
    expect(problemsOf(await verifyLake(store))).toEqual([{ key: chartCsvKey, kind: 'checksum' }]);
  });

  it("checks the parts of every run: an earlier run's parts stay listed by their own markers", async () => {
    const earlier = await landDay(store, run1, 'verified');
    await claim(store, run1);
    await landDay(store, run2, 'verified', ['t5', 't6', 't7', 't8']);
    await claim(store, run2);
    let verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.checked).toBe(2 + 4 * 3);
    await store.put(earlier.first.attributes, 'x');
    verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([{ key: earlier.first.attributes, kind: 'size' }]);
  });

  it('does not report a first run on its way (no manifest, never loaded)', async () => {
    await landChart(store, run1, ids);
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringMatching(/^no manifest yet/)]);
  });

  it("does not report a part of the manifest's run not marked yet while the run is not loaded", async () => {
    await landDay(store, run1, 'verified');
    await landPart(store, run1, ['t1'], 'files');
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining('is not marked yet')]);
  });

  it("once the run is loaded, an unmarked part of tracks its marked parts hold is a stopped delivery's; of other tracks, unlisted", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    // A delivery of t1..t3 stopped before its marker; redelivered as t1,t2 and t3,t4 (landDay's parts).
    await landPart(store, run1, ['t1', 't2', 't3'], 'files');
    let verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([
      expect.stringContaining('other parts of the run hold its tracks'),
    ]);
    const planted = await landPart(store, run1, ['t1', 't9'], 'files');
    verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual(
      [planted.raw, planted.artists, planted.attributes].sort().map((key) => ({ key, kind: 'unlisted' })),
    );
  });

  it('does not report a part of a replaced run, which track-attributes wrote after the re-run and never marked', async () => {
    await landDay(store, run2, 'verified');
    await claim(store, run2);
    await landPart(store, run1, ['t1', 't2'], 'files');
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining(`which run ${run2} replaced`)]);
  });

  it('does not report a part of a replaced run whose delivery stopped before its attributes CSV: its artists CSV names the run', async () => {
    await landDay(store, run2, 'verified');
    await claim(store, run2);
    await landPart(store, run1, ['t1', 't2'], 'files');
    const part = partName(run1, ['t1', 't2']);
    await store.delete(lakeKeys.attributesCsv(day.chartDate, day.chartId, part));
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining(`which run ${run2} replaced`)]);

    // With neither CSV, nothing names the run: the payload alone is unlisted.
    await store.delete(lakeKeys.artistsCsv(day.chartDate, day.chartId, part));
    expect(problemsOf(await verifyLake(store))).toEqual([
      { key: lakeKeys.attributesRaw(day.chartDate, day.chartId, part), kind: 'unlisted' },
    ]);
  });

  it('calls days written before checksums unverified, which does not fail the lake', async () => {
    await landDay(store, run1, 'keys');
    await store.put(lakeKeys.chartCsv('2026-11-21', day.chartId), chartCsvOf(run1, ids));
    await store.put(
      lakeKeys.manifest('2026-11-21', day.chartId),
      JSON.stringify({
        runId: run1,
        chartId: day.chartId,
        chartDate: '2026-11-21',
        source: 't',
        extractedAt: '2026-11-21T06:00:00.000Z',
        trackIds: ids,
      }),
    );
    const verdict = await verifyLake(store);
    expect(kindsOf(verdict)).toEqual(['unverified', 'unverified', 'unverified', 'unverified']);
    expect(verdict.counts.unverified).toBe(4);
    expect(lakeIsSound(verdict)).toBe(true);
  });

  it('keeps to --from, --to and --chart', async () => {
    await landDay(store, run1, 'verified');
    await store.put(lakeKeys.chartCsv('2026-11-22', 'br'), 'x');
    expect((await verifyLake(store, { from: '2026-11-21' })).days.map((d) => d.chartId)).toEqual(['br']);
    expect((await verifyLake(store, { to: '2026-11-21' })).days.map((d) => d.chartId)).toEqual(['global']);
    expect((await verifyLake(store, { chartId: 'br' })).days.map((d) => d.chartDate)).toEqual(['2026-11-22']);
    expect((await verifyLake(store, { from: '2026-11-20', to: '2026-11-20' })).days).toHaveLength(1);
  });
});

describe('Function: sealLake', () => {
  let home: string;
  let store: FsObjectStore;
  let events: S3Event[];

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-seal-'));
    events = [];
    store = new FsObjectStore({ root: path.join(home, 'lake'), onObjectCreated: (e) => events.push(e) });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it.each<Layout>(['keys', 'files'])(
    'records the checksums of a loaded %s day once; verify then holds it to them',
    async (layout) => {
      const { first } = await landDay(store, run1, layout);
      await claim(store, run1);
      // Before markers, the parts are the manifest's to vouch for; with empty markers, each its marker's.
      expect(kindsOf(await verifyLake(store))).toEqual(['unverified', 'unverified', 'unverified']);
      const seals = await sealLake(store);
      expect(seals).toHaveLength(1);
      expect(seals[0]!.skipped).toEqual([]);
      expect(seals[0]!.sealed.map((s) => s.files)).toEqual(layout === 'keys' ? [2, 3, 3] : [2 + 2 * 3]);

      let verdict = await verifyLake(store);
      expect(problemsOf(verdict)).toEqual([]);
      expect(verdict.checked).toBe(2 + 2 * 3);
      // Sealed once: a second seal writes nothing, and damage is now seen.
      expect(await sealLake(store)).toEqual([]);
      await store.put(first.attributes, 'x');
      verdict = await verifyLake(store);
      expect(problemsOf(verdict)).toEqual([{ key: first.attributes, kind: 'size' }]);
    },
  );

  it("leaves the parts of a day too long for markers unverified, and says why; an earlier run's part there is no problem", async () => {
    await landDay(store, run1, 'files');
    await claim(store, run1);
    // As chart-fetch writes a day of more than 400 tracks: checksums, but no chartCsvMd5, so no markers.
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as Record<string, unknown>;
    const files = [
      lakeFileOf(payloadKey, (await store.get(payloadKey))!, null),
      lakeFileOf(chartCsvKey, (await store.get(chartCsvKey))!, ids.length),
    ];
    await store.put(manifestKey, JSON.stringify({ ...manifest, files }));
    await landPart(store, '20261120T050000000Z-aaaa0000', ['t1'], 'files');

    const verdict = await verifyLake(store);
    expect(kindsOf(verdict)).toEqual(['unverified', 'unverified']);
    expect(verdict.days[0]!.problems[0]!.detail).toBe(
      'a part of a day too long for part markers: nothing holds its checksums',
    );
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining('which run ' + run1 + ' replaced')]);
    const before = await store.list('raw/');
    expect(await sealLake(store)).toEqual([
      {
        ...day,
        sealed: [],
        skipped: [{ key: manifestKey, why: expect.stringContaining('too long for part markers') }],
      },
    ]);
    expect(await store.list('raw/')).toEqual(before);
  });

  it('never rewrites a verified manifest', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const before = await store.list('raw/');
    expect(await sealLake(store)).toEqual([]);
    expect(await store.list('raw/')).toEqual(before);
  });

  it('seals nothing of a day whose run has not claimed its load, and says why', async () => {
    await landDay(store, run1, 'keys');
    const before = await store.list('raw/');
    const seals = await sealLake(store);
    expect(seals).toEqual([
      {
        ...day,
        sealed: [],
        skipped: [{ key: manifestKey, why: expect.stringContaining('has not claimed its load') }],
      },
    ]);
    expect(await store.list('raw/')).toEqual(before);
  });

  it("does not seal a chart CSV that is not the manifest's any more (cut short), nor a part rewritten since its marker", async () => {
    const { second } = await landDay(store, run1, 'keys');
    await claim(store, run1);
    const chart = (await store.get(chartCsvKey))!.toString('utf8');
    await store.put(chartCsvKey, chart.split('\n').slice(0, 3).join('\n') + '\n');
    await store.put(
      second.attributes,
      (await store.get(second.attributes))!.toString('utf8').replace(',88,', ',42,'),
    );
    const [seal] = await sealLake(store);
    expect(seal!.sealed).toHaveLength(1);
    expect(seal!.skipped).toEqual([
      { key: manifestKey, why: expect.stringContaining("tracks are not the manifest's") },
      {
        key: expect.stringContaining(partName(run1, ['t3', 't4'])),
        why: expect.stringContaining('changed since its run marked them'),
      },
    ]);
    expect(kindsOf(await verifyLake(store))).toEqual(['unverified', 'unverified']);
  });

  it('fires the loader, which finds the claim taken and loads nothing; after a replay it loads the sealed day, verified', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    events.length = 0;
    await sealLake(store);
    expect(events.length).toBe(3);
    const published: unknown[] = [];
    const warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    const handler = makeHandler({
      store,
      warehouse,
      bus: { publish: async (event) => void published.push(event) },
      clock: systemClock,
    });
    const decisions = (await Promise.all(events.map((e) => handler(e, localContext('stage-loader'))))).flat();
    expect(decisions.map((d) => d.outcome)).toEqual([
      'already_claimed',
      'already_claimed',
      'already_claimed',
    ]);
    expect(published).toEqual([]);

    // A replay resets the claim: the loader holds the day to what the seal recorded, rows included.
    await store.delete(lakeKeys.claim(day.chartDate, day.chartId, run1));
    const [decision] = await handler(events[0]!, localContext('stage-loader'));
    expect(decision).toMatchObject({
      outcome: 'loaded',
      rows: { chart_songs: 4, song_attributes: 4, song_artists: 4 },
    });
  });
});
