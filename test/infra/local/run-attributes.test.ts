import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { attributesOfRun } from '../../../infra/local/run-summary.js';
import { partName, tablePrefix } from '../../../shared/lake/keys.js';
import { lakeFileOf } from '../../../shared/lake/lake-files.js';
import { markPart, md5Of } from '../../../shared/lake/part-markers.js';
import { fromStageCsv, toStageCsv } from '../../../shared/records/csv.js';
import { missingOf, type MissingCounts } from '../../../shared/records/missing-reasons.js';
import { day, ids, landPart, run1, run2 } from '../../support/landed-days.js';

/** Whether a key read is an attributes CSV of the day (their folder is tables/song_attributes/). */
const isAttributesCsv = (key: string) =>
  key.startsWith(tablePrefix('song_attributes', day.chartDate, day.chartId));

/**
 * A run summary counts what a run's attribute rows lack from the markers of its parts when they
 * hold the count, and reads the CSVs otherwise; either way the same counts as the rows give.
 */
describe('Function: attributesOfRun', () => {
  let home: string;
  let store: FsObjectStore;
  let csvReads: string[];

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-run-attributes-'));
    store = new FsObjectStore({ root: home });
    csvReads = [];
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      if (key.endsWith('.csv')) csvReads.push(key);
      return get(key);
    };
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /** The counts of a run's rows, read from every attributes CSV of the day. */
  const countedFromCsvs = async (runId: string): Promise<MissingCounts> => {
    const rows = [];
    for (const { key } of await store.list(tablePrefix('song_attributes', day.chartDate, day.chartId))) {
      const text = (await store.get(key))!.toString('utf8');
      rows.push(...fromStageCsv('song_attributes', text, key).filter((r) => r.run_id === runId));
    }
    return missingOf(rows);
  };

  /** Marks a part landed without a marker, as track-attributes marks it now: with its count. */
  const markWithCount = async (
    runId: string,
    half: readonly string[],
    keys: Awaited<ReturnType<typeof landPart>>,
  ) => {
    const attributes = (await store.get(keys.attributes))!;
    const artists = (await store.get(keys.artists))!;
    await markPart(store, {
      runId,
      ...day,
      part: partName(runId, half),
      trackIds: [...half],
      indexes: half.map((id) => ids.indexOf(id)),
      files: [lakeFileOf(keys.attributes, attributes, half.length)],
      missing: missingOf(fromStageCsv('song_attributes', attributes.toString('utf8'))),
      attributesMd5: md5Of(attributes),
      artistsMd5: md5Of(artists),
    });
  };

  it('counts the parts its markers count without reading their CSVs, and as the CSVs would', async () => {
    for (const half of [ids.slice(0, 2), ids.slice(2)]) {
      await markWithCount(run1, half, await landPart(store, run1, half, 'files'));
    }
    // Another run's part of the same day: not this run's rows.
    await landPart(store, run2, ids.slice(0, 1), 'verified');
    csvReads = [];

    const attributes = await attributesOfRun(store, day, run1);
    expect(
      csvReads.filter((key) => isAttributesCsv(key) && !key.includes(partName(run2, ids.slice(0, 1)))),
    ).toEqual([]);
    expect(attributes.missing).toEqual(await countedFromCsvs(run1));
    expect(attributes.missing.withoutFeatures).toBe(ids.length);
  });

  it('reads the CSVs of parts whose markers hold no count (written before they did)', async () => {
    await landPart(store, run1, ids.slice(0, 2), 'verified');
    await landPart(store, run1, ids.slice(2), 'keys');
    csvReads = [];

    const attributes = await attributesOfRun(store, day, run1);
    expect(csvReads.filter(isAttributesCsv)).toHaveLength(2);
    expect(attributes.missing).toEqual(await countedFromCsvs(run1));
  });

  it('reads a CSV changed since its marker counted it, and counts what it holds now', async () => {
    const half = ids.slice(0, 2);
    const keys = await landPart(store, run1, half, 'files');
    await markWithCount(run1, half, keys);
    await store.put(
      keys.attributes,
      toStageCsv(
        'song_attributes',
        half.map((id) => ({
          chart_id: day.chartId,
          chart_date: day.chartDate,
          run_id: run1,
          extracted_at: '2026-11-20 06:00:00.000',
          track_id: id,
          enrichment_status: 'not_found',
          missing_reason: 'not_found: no source knows this track',
        })),
      ),
    );

    const attributes = await attributesOfRun(store, day, run1);
    expect(attributes.missing).toMatchObject({ notFound: 2, byKind: { not_found: 2 } });
    expect(attributes.missing).toEqual(await countedFromCsvs(run1));
  });
});
