import { describe, expect, it } from 'vitest';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import {
  coverageOf,
  indexesOf,
  keyedParts,
  maxKeyedTracks,
  partDigest,
} from '../../../shared/lake/part-markers.js';
import type { ObjectInfo } from '../../../shared/ports/object-store.js';

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
