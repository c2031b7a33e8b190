import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import {
  coverageOf,
  indexesOf,
  keyedParts,
  markPart,
  maxKeyedTracks,
  partDigest,
  readPartManifest,
  type LandedPart,
  type PartManifest,
} from '../../../shared/lake/part-markers.js';
import type { ObjectInfo } from '../../../shared/ports/object-store.js';
import { noteContentTypes } from './store-doubles.js';

const day = { chartDate: '2026-11-20', chartId: 'global' };
const listed = (key: string, etag = 'e'): ObjectInfo => ({ key, etag, size: 1, lastModified: new Date(0) });

describe('Function: coverageOf', () => {
  it('round-trips any set of indexes', () => {
    for (const indexes of [[0], [3], [4], [0, 1, 2, 3, 4, 5, 6, 7], [1, 17, 199], [maxKeyedTracks - 1]]) {
      expect(indexesOf(coverageOf(indexes))).toEqual(indexes);
    }
    expect(coverageOf([0, 5])).toBe('12');
  });

  it('keeps the longest marker name within the 255 bytes a file name may have', () => {
    const key = lakeKeys.partMarker(
      day.chartDate,
      'a'.repeat(64),
      'r'.repeat(80),
      partName('r'.repeat(80), ['x']),
      partDigest('a', 'b'),
      coverageOf(Array.from({ length: maxKeyedTracks }, (_, i) => i)),
    );
    expect(Buffer.byteLength(key.split('/').at(-1)!)).toBeLessThanOrEqual(255);
  });
});

describe('Function: keyedParts', () => {
  const part = partName('run-000001', ['t1', 't2']);
  const attributes = lakeKeys.attributesCsv(day.chartDate, day.chartId, part);
  const artists = lakeKeys.artistsCsv(day.chartDate, day.chartId, part);
  const marker = (runId: string, digest = partDigest('a1', 'r1')) =>
    lakeKeys.partMarker(day.chartDate, day.chartId, runId, part, digest, coverageOf([0, 2]));

  it('takes the parts of the run whose CSVs are the ones their marker names', () => {
    const listing = [listed(attributes, 'a1'), listed(artists, 'r1'), listed(marker('run-000001'))];
    expect(keyedParts(listing, day, 'run-000001')).toEqual({
      parts: [{ attributesKey: attributes, artistsKey: artists, markerKey: marker('run-000001') }],
      covered: new Set([0, 2]),
      changed: [],
      gone: [],
    });
  });

  it('takes a part whose coverage runs to several hex digits', () => {
    const wide = lakeKeys.partMarker(
      day.chartDate,
      day.chartId,
      'run-000001',
      part,
      partDigest('a1', 'r1'),
      coverageOf([0, 5, 9]),
    );
    const listing = [listed(attributes, 'a1'), listed(artists, 'r1'), listed(wide)];
    expect(keyedParts(listing, day, 'run-000001')).toMatchObject({
      parts: [{ markerKey: wide }],
      covered: new Set([0, 5, 9]),
    });
  });

  it('ignores a key that only starts like a marker, such as a copy of one', () => {
    const copy = `${marker('run-000001')}.bak`;
    const listing = [listed(attributes, 'a1'), listed(artists, 'r1'), listed(copy)];
    expect(keyedParts(listing, day, 'run-000001')).toEqual({
      parts: [],
      covered: new Set(),
      changed: [],
      gone: [],
    });
  });

  it('takes a part the run marked again after rewriting its CSVs, and does not name it changed', () => {
    const listing = [
      listed(attributes, 'a2'),
      listed(artists, 'r2'),
      // The first marker names the CSVs as they were; the second, written after the rewrite, as they are.
      listed(marker('run-000001', partDigest('a1', 'r1'))),
      listed(marker('run-000001', partDigest('a2', 'r2'))),
    ];
    expect(keyedParts(listing, day, 'run-000001')).toEqual({
      parts: [
        {
          attributesKey: attributes,
          artistsKey: artists,
          markerKey: marker('run-000001', partDigest('a2', 'r2')),
        },
      ],
      covered: new Set([0, 2]),
      changed: [],
      gone: [],
    });
  });

  it('leaves out other runs, and names the CSVs changed since, to be read, and those gone', () => {
    const none = { parts: [], covered: new Set(), changed: [], gone: [] };
    const run = 'run-000001';
    expect(
      keyedParts([listed(attributes, 'a1'), listed(artists, 'r1'), listed(marker('run-000002'))], day, run),
    ).toEqual(none);
    expect(keyedParts([listed(attributes, 'a1'), listed(marker(run))], day, run)).toEqual({
      ...none,
      gone: [{ attributesKey: attributes, artistsKey: artists, markerKey: marker(run) }],
    });
    expect(
      keyedParts([listed(attributes, 'a2'), listed(artists, 'r1'), listed(marker(run))], day, run),
    ).toEqual({
      ...none,
      changed: [{ attributesKey: attributes, artistsKey: artists, markerKey: marker(run) }],
    });
  });
});

describe('Functions: markPart, readPartManifest', () => {
  let root: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-part-markers-'));
    store = new FsObjectStore({ root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const runId = 'run-000001';
  const manifest: PartManifest = {
    runId,
    chartId: day.chartId,
    chartDate: day.chartDate,
    part: partName(runId, ['t1', 't2']),
    trackIds: ['t1', 't2'],
    files: [],
  };
  const landed: LandedPart = { ...manifest, indexes: [0, 2], attributesMd5: 'a1', artistsMd5: 'r1' };
  const markerKey = lakeKeys.partMarker(
    day.chartDate,
    day.chartId,
    runId,
    manifest.part,
    partDigest('a1', 'r1'),
    coverageOf([0, 2]),
  );

  it('writes the part manifest into its marker as JSON, and says so in its content type', async () => {
    const { store: noting, contentTypes } = noteContentTypes(store);
    await markPart(noting, landed);
    expect(contentTypes.get(markerKey)).toBe('application/json');
    expect(await readPartManifest(store, markerKey)).toEqual(manifest);
  });

  it('refuses to mark a part whose manifest is not one, naming the part', async () => {
    await expect(markPart(store, { ...landed, trackIds: ['not a track id'] })).rejects.toThrow(
      new RegExp(`^the manifest of ${manifest.part}: .*trackIds`),
    );
    expect(await store.list('raw/')).toEqual([]);
  });

  it('reads no manifest from a marker gone since, or written empty before markers had one', async () => {
    expect(await readPartManifest(store, markerKey)).toBeUndefined();
    await store.put(markerKey, '');
    expect(await readPartManifest(store, markerKey)).toBeUndefined();
  });

  it('refuses a marker that holds something else, naming the marker', async () => {
    await store.put(markerKey, JSON.stringify({ runId }));
    await expect(readPartManifest(store, markerKey)).rejects.toThrow(InvalidRecordError);
    await expect(readPartManifest(store, markerKey)).rejects.toThrow(`part manifest ${markerKey}: `);
  });

  it('refuses a manifest whose part is not a whole part name', async () => {
    for (const part of [`x${manifest.part}`, `${manifest.part}0`, 'part-0123']) {
      await store.put(markerKey, JSON.stringify({ ...manifest, part }));
      await expect(readPartManifest(store, markerKey)).rejects.toThrow(/a part name/);
    }
  });
});
