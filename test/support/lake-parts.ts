import type { ObjectStore } from '../../shared/ports/object-store.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { lakeFileOf } from '../../shared/lake/lake-files.js';
import { coverageOf, markPart, md5Of, partDigest } from '../../shared/lake/part-markers.js';
import { fromStageCsv } from '../../shared/records/csv.js';

/**
 * How a day was landed: `verified`, as chart-fetch and track-attributes land it now (the manifest
 * lists its files with their checksums, each part's marker holds the part's manifest); `keys`, as
 * they did before checksums (the chart CSV's md5 in the manifest, an empty marker after each part);
 * `files`, as they did before part markers, which the loader decides by reading the files.
 */
export type Layout = 'verified' | 'keys' | 'files';

/** The fields a manifest of that layout adds for its chart CSV. */
export const manifestExtras = (layout: Layout, chartKey: string, chartCsv: string) => ({
  ...(layout === 'files' ? {} : { chartCsvMd5: md5Of(chartCsv) }),
  ...(layout === 'verified'
    ? { files: [lakeFileOf(chartKey, chartCsv, fromStageCsv('chart_songs', chartCsv).length)] }
    : {}),
});

/** Marks a part whose two CSVs are in the lake, as track-attributes does in that layout. */
export const markLandedPart = async (
  store: ObjectStore,
  layout: Exclude<Layout, 'files'>,
  part: {
    chartDate: string;
    chartId: string;
    runId: string;
    part: string;
    trackIds: readonly string[];
    indexes: readonly number[];
    attributesCsv: string;
    artistsCsv: string;
    /** What landing the part took, as track-attributes records it in the marker. */
    requests?: Record<string, number>;
    quarantined?: number;
  },
): Promise<void> => {
  const { chartDate, chartId } = part;
  if (layout === 'keys') {
    const digest = partDigest(md5Of(part.attributesCsv), md5Of(part.artistsCsv));
    const key = lakeKeys.partMarker(
      chartDate,
      chartId,
      part.runId,
      part.part,
      digest,
      coverageOf(part.indexes),
    );
    await store.put(key, '');
    return;
  }
  await markPart(store, {
    ...(part.requests ? { requests: part.requests } : {}),
    ...(part.quarantined !== undefined ? { quarantined: part.quarantined } : {}),
    runId: part.runId,
    chartId,
    chartDate,
    part: part.part,
    trackIds: [...part.trackIds],
    indexes: part.indexes,
    files: [
      lakeFileOf(
        lakeKeys.attributesCsv(chartDate, chartId, part.part),
        part.attributesCsv,
        fromStageCsv('song_attributes', part.attributesCsv).length,
      ),
      lakeFileOf(
        lakeKeys.artistsCsv(chartDate, chartId, part.part),
        part.artistsCsv,
        fromStageCsv('song_artists', part.artistsCsv).length,
      ),
    ],
    attributesMd5: md5Of(part.attributesCsv),
    artistsMd5: md5Of(part.artistsCsv),
  });
};
