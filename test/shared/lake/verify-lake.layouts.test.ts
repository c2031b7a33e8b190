import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { lakeKeys, legacyLakeKeys, tablePrefix } from '../../../shared/lake/keys.js';
import { lakeIsSound, sealLake, verifyLake, type LakeVerdict } from '../../../shared/lake/verify-lake.js';
import { toLegacyLayout } from '../../support/legacy-layout.js';
import {
  chartCsvKey,
  claim,
  day,
  landChart,
  landDay,
  landPart,
  run1,
  run2,
  type Layout,
} from '../../support/landed-days.js';

/**
 * `verify` in both layouts of the lake (docs/architecture.md, "Key layout"): the normalized CSVs in
 * a folder per dataset under `tables/`, or, for a day written before, beside the raw answers under
 * `raw/` (`legacyLakeKeys`).
 */
const problemsOf = (verdict: LakeVerdict) =>
  verdict.days.flatMap((d) => d.problems).map(({ key, kind }) => ({ key, kind }));
const sorted = <T extends { key: string }>(list: T[]) => list.sort((a, b) => a.key.localeCompare(b.key));

describe('Function: verifyLake, in either layout', () => {
  let home: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-verify-layouts-'));
    store = new FsObjectStore({ root: home });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('names damaged, missing and stray files under tables/, each by its key there', async () => {
    const { first, second } = await landDay(store, run1, 'verified');
    await claim(store, run1);
    expect(first.attributes.startsWith(tablePrefix('song_attributes', day.chartDate, day.chartId))).toBe(
      true,
    );
    expect(first.artists.startsWith(tablePrefix('song_artists', day.chartDate, day.chartId))).toBe(true);
    const chart = (await store.get(chartCsvKey))!.toString('utf8');
    await store.put(chartCsvKey, chart.slice(0, -10));
    const artists = (await store.get(first.artists))!;
    await store.put(first.artists, Buffer.from(artists).fill(0x41, 0, 8));
    await store.delete(second.attributes);
    const stray = `${tablePrefix('chart_songs', day.chartDate, day.chartId)}chart_songs.csv.bak`;
    await store.put(stray, chart);

    const verdict = await verifyLake(store);
    expect(lakeIsSound(verdict)).toBe(false);
    expect(sorted(problemsOf(verdict))).toEqual(
      sorted([
        { key: chartCsvKey, kind: 'size' },
        { key: first.artists, kind: 'checksum' },
        { key: second.attributes, kind: 'missing' },
        { key: stray, kind: 'unlisted' },
      ]),
    );
  });

  it.each<Layout>(['verified', 'keys', 'files'])(
    'finds in a day of the legacy layout (%s) what it found before its files moved, by their old keys',
    async (layout) => {
      await landDay(store, run1, layout);
      await claim(store, run1);
      const before = problemsOf(await verifyLake(store));
      const moved = await toLegacyLayout(store, day);
      expect(moved.get(chartCsvKey)).toBe(legacyLakeKeys.chartCsv(day.chartDate, day.chartId));
      expect(await store.list('tables/')).toEqual([]);

      const after = await verifyLake(store);
      expect(sorted(problemsOf(after))).toEqual(
        sorted(before.map((p) => ({ ...p, key: moved.get(p.key) ?? p.key }))),
      );
      expect(lakeIsSound(after)).toBe(true);
      expect(after.checked).toBe(layout === 'verified' ? 2 + 3 * 2 : 0);
    },
  );

  it('names a damaged file of a legacy day by its old key', async () => {
    const { first } = await landDay(store, run1, 'verified');
    await claim(store, run1);
    await toLegacyLayout(store, day);
    const legacy = legacyLakeKeys.attributesCsv(
      day.chartDate,
      day.chartId,
      first.raw.split('/').at(-1)!.split('.')[0]!,
    );
    await store.put(legacy, 'not the part any more\n');
    expect(problemsOf(await verifyLake(store))).toEqual([{ key: legacy, kind: 'size' }]);
  });

  it("passes a legacy day re-run in tables/, noting the earlier run's chart CSV that stays under raw/", async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    await toLegacyLayout(store, day);
    // On its way: the re-run's payload and chart CSV are written, its manifest not yet.
    await landChart(store, run2, ['t1', 't2', 't3', 't4']);
    let verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([expect.stringContaining(`run ${run2} is rewriting the day`)]);

    await landDay(store, run2, 'verified');
    await claim(store, run2);
    verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([
      `${legacyLakeKeys.chartCsv(day.chartDate, day.chartId)} is the chart CSV of run ${run1}, in the layout before tables/; run ${run2} wrote the day in tables/, and no load reads it`,
    ]);
    // Both runs' parts are held to their own part manifests: the earlier run's by their old keys.
    expect(verdict.checked).toBe(2 + 3 * 2 + 3 * 2);
  });

  it('does not take a legacy chart CSV of the manifest’s own run, or of no run, for an earlier run’s', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const legacy = legacyLakeKeys.chartCsv(day.chartDate, day.chartId);
    await store.put(legacy, (await store.get(chartCsvKey))!);
    expect(problemsOf(await verifyLake(store))).toEqual([{ key: legacy, kind: 'unlisted' }]);
    await store.put(legacy, 'not a chart\n');
    expect(problemsOf(await verifyLake(store))).toEqual([{ key: legacy, kind: 'unlisted' }]);
  });

  it('names an unmarked part under tables/ of another run as unlisted', async () => {
    await landDay(store, run1, 'verified');
    await claim(store, run1);
    const planted = await landPart(store, run2, ['t1'], 'files');
    expect(sorted(problemsOf(await verifyLake(store)))).toEqual(
      sorted([planted.raw, planted.attributes, planted.artists].map((key) => ({ key, kind: 'unlisted' }))),
    );
  });

  it('seals a legacy day written before checksums by its old keys, and then holds it to them', async () => {
    await landDay(store, run1, 'keys');
    await claim(store, run1);
    await toLegacyLayout(store, day);
    const [seal] = await sealLake(store);
    expect(seal!.skipped).toEqual([]);
    const manifest = JSON.parse(
      (await store.get(lakeKeys.manifest(day.chartDate, day.chartId)))!.toString('utf8'),
    ) as {
      files: { key: string }[];
    };
    expect(manifest.files.map((f) => f.key)).toContain(legacyLakeKeys.chartCsv(day.chartDate, day.chartId));
    const verdict = await verifyLake(store);
    expect(problemsOf(verdict)).toEqual([]);
    // The payload and the chart CSV in the manifest, three files in each part's manifest.
    expect(verdict.checked).toBe(2 + 3 * 2);
  });
});
