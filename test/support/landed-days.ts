import type { ObjectStore } from '../../shared/ports/object-store.js';
import { lakeKeys, partName } from '../../shared/lake/keys.js';
import { lakeFileOf } from '../../shared/lake/lake-files.js';
import { coverageOf, markPart, md5Of, partDigest } from '../../shared/lake/part-markers.js';
import { toStageCsv } from '../../shared/records/csv.js';
import type { Manifest } from '../../shared/records/messages.js';

/** Days as the writers land them, for `verify` to hold to their manifests (shared/lake/verify-lake.ts). */

export const day = { chartDate: '2026-11-20', chartId: 'global' };
export const chartCsvKey = lakeKeys.chartCsv(day.chartDate, day.chartId);
export const payloadKey = lakeKeys.chartRaw(day.chartDate, day.chartId);
export const manifestKey = lakeKeys.manifest(day.chartDate, day.chartId);
export const ids = ['t1', 't2', 't3', 't4'];
export const run1 = '20261120T060000000Z-aaaa0001';
export const run2 = '20261120T070000000Z-aaaa0002';

/**
 * How a day was landed: `verified` as the writers land it now (checksums in the manifest and in
 * each part's marker), `keys` as before checksums (empty markers), `files` as before markers.
 */
export type Layout = 'verified' | 'keys' | 'files';

const lineage = (runId: string) => ({
  chart_id: day.chartId,
  chart_date: day.chartDate,
  run_id: runId,
  extracted_at: '2026-11-20 06:00:00.000',
});

export const chartCsvOf = (runId: string, trackIds: readonly string[]) =>
  toStageCsv(
    'chart_songs',
    trackIds.map((id, i) => ({
      ...lineage(runId),
      position: i + 1,
      track_id: id,
      track_name: `n${i}`,
      artist_names: 'a',
      source: 't',
    })),
  );

/** Writes a run's payload and chart CSV, as chart-fetch does before its manifest. */
export const landChart = async (store: ObjectStore, runId: string, trackIds: readonly string[]) => {
  const payload = JSON.stringify({ runId, items: trackIds });
  const chartCsv = chartCsvOf(runId, trackIds);
  await store.put(payloadKey, payload);
  await store.put(chartCsvKey, chartCsv);
  return { payload, chartCsv };
};

/** Writes one part's three files (and its marker, but for `files`), as track-attributes does. */
export const landPart = async (
  store: ObjectStore,
  runId: string,
  half: readonly string[],
  layout: Layout,
  allIds: readonly string[] = ids,
) => {
  const part = partName(runId, half);
  const keys = {
    raw: lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
    attributes: lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
    artists: lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
  };
  const raw = JSON.stringify({ tracks: half });
  const attributesCsv = toStageCsv(
    'song_attributes',
    half.map((id) => ({ ...lineage(runId), track_id: id, enrichment_status: 'ok', popularity: 88 })),
  );
  const artistsCsv = toStageCsv(
    'song_artists',
    half.map((id) => ({
      ...lineage(runId),
      track_id: id,
      artist_position: 1,
      artist_id: 'a1',
      artist_name: 'A',
    })),
  );
  await store.put(keys.raw, raw);
  await store.put(keys.artists, artistsCsv);
  await store.put(keys.attributes, attributesCsv);
  const indexes = half.map((id) => allIds.indexOf(id));
  if (layout === 'keys') {
    const digest = partDigest(md5Of(attributesCsv), md5Of(artistsCsv));
    await store.put(
      lakeKeys.partMarker(day.chartDate, day.chartId, runId, part, digest, coverageOf(indexes)),
      '',
    );
  } else if (layout === 'verified') {
    await markPart(store, {
      runId,
      ...day,
      part,
      trackIds: [...half],
      indexes,
      files: [
        lakeFileOf(keys.raw, raw, null),
        lakeFileOf(keys.attributes, attributesCsv, half.length),
        lakeFileOf(keys.artists, artistsCsv, half.length),
      ],
      attributesMd5: md5Of(attributesCsv),
      artistsMd5: md5Of(artistsCsv),
    });
  }
  return keys;
};

/** Lands a complete day of a run: payload, chart CSV, manifest, then two parts covering every id. */
export const landDay = async (store: ObjectStore, runId: string, layout: Layout, trackIds = ids) => {
  const { payload, chartCsv } = await landChart(store, runId, trackIds);
  const manifest: Manifest = {
    runId,
    ...day,
    source: 't',
    extractedAt: '2026-11-20T06:00:00.000Z',
    trackIds: [...trackIds],
    skipped: [],
    ...(layout === 'files' ? {} : { chartCsvMd5: md5Of(chartCsv) }),
    ...(layout === 'verified'
      ? {
          files: [lakeFileOf(payloadKey, payload, null), lakeFileOf(chartCsvKey, chartCsv, trackIds.length)],
        }
      : {}),
  };
  await store.put(manifestKey, JSON.stringify(manifest, null, 2));
  const first = await landPart(store, runId, trackIds.slice(0, 2), layout, trackIds);
  const second = await landPart(store, runId, trackIds.slice(2), layout, trackIds);
  return { first, second };
};

/** The run's claim of its load, as the stage loader creates it. */
export const claim = (store: ObjectStore, runId: string): Promise<void> =>
  store.put(lakeKeys.claim(day.chartDate, day.chartId, runId), JSON.stringify({ runId }));
