import { createHash } from 'node:crypto';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import * as z from 'zod';
import { parseJsonOrThrow, parseOrThrow } from '../parse.js';
import { chartId, requestCountsSchema, runId, trackId } from '../records/messages.js';
import { isoDate, lakeKeys, rawPrefix } from './keys.js';
import { keysOf, partCsvCandidates, partCsvs } from './layouts.js';
import { lakeFileSchema } from './lake-files.js';
import { missingCountsSchema } from '../records/missing-reasons.js';

/**
 * How the stage loader knows a day is complete from keys alone, without reading a data file.
 *
 * Attribute parts are named by the hash of the track ids of an SQS batch, so chart-fetch cannot
 * name them in advance, and parts of different runs of the same day share a prefix (and, for the
 * same ids, a name). So after a part's CSVs, track-attributes writes one empty marker whose KEY
 * (`lakeKeys.partMarker`) carries:
 * - the run that wrote the part, so parts of other runs are left out;
 * - a digest of the md5s of the part's two CSVs, which the loader compares with the ETags the
 *   listing gives, so a part overwritten since (a late redelivery of another run with the same ids)
 *   is not taken for this run's;
 * - the part's coverage: which of the manifest's tracks it holds, as a bitmap over their indexes
 *   in the manifest's `trackIds` (track-attributes reads the manifest, one small object, to know
 *   them; the track messages stay as they are).
 * The manifest carries the md5 of the chart CSV (`Manifest.chartCsvMd5`), compared in the same
 * listing way. A day is complete when the markers of the manifest's run whose CSVs are still
 * theirs cover every index, and the chart CSV is the run's. Only a file changed since its run
 * wrote it (by a later run with the same ids, or by hand) is read, to tell whose rows it holds, as
 * the loader always did: so a usual day is decided reading no data file, and an edited one as before.
 *
 * One small object per part (a day has a few parts, not hundreds) under `raw/`, so it fires the
 * loader: it is the last write, the one that can complete a day (the part's CSVs, under `tables/`,
 * fire nothing). A manifest without `chartCsvMd5` (written before markers, or with more than
 * {@link maxKeyedTracks} tracks, whose coverage would not fit in a key) gets no markers, and its day
 * is decided as before, by reading the CSVs: there the part's raw answer, under `raw/` and written
 * after its CSVs, is the write that fires the loader. A part of a run the manifest no longer names (a re-run replaced it) gets no
 * marker either: only the manifest's run is ever loaded.
 */

/**
 * The most tracks a manifest may have for its coverage to be kept in keys: a bitmap of this many
 * bits is 100 hex digits, which keeps a marker's name within the 255 bytes a file name may have.
 */
export const maxKeyedTracks = 400;

/** The md5 of a body as its ETag carries it (a single-part write). */
export const md5Of = (body: string | Uint8Array): string => createHash('md5').update(body).digest('hex');

/** Names a part's two CSVs by their md5s (their ETags), in few characters. */
export const partDigest = (attributesMd5: string, artistsMd5: string): string =>
  createHash('sha256').update(`${attributesMd5} ${artistsMd5}`).digest('hex').slice(0, 16);

/** The bitmap of a set of indexes, in hex: digit `d` holds indexes 4d to 4d+3, lowest bit first. */
export const coverageOf = (indexes: readonly number[]): string => {
  // One digit per four indexes up to the highest, and one digit for no index at all.
  const digits = new Array<number>(Math.floor(Math.max(0, ...indexes) / 4) + 1).fill(0);
  for (const index of indexes) digits[index >> 2]! |= 1 << (index & 3);
  return digits.map((d) => d.toString(16)).join('');
};

/** The indexes a coverage bitmap holds. */
export const indexesOf = (coverage: string): number[] =>
  [...coverage].flatMap((digit, d) =>
    [0, 1, 2, 3].filter((bit) => (Number.parseInt(digit, 16) >> bit) & 1).map((bit) => d * 4 + bit),
  );

/**
 * A part's manifest, the body of its marker: what track-attributes wrote for the part (the raw
 * answer and the two CSVs, each with its size, SHA-256 and rows), which the stage loader and
 * `verify` hold the lake to. A marker written before manifests had checksums is empty: its part is
 * loaded as before, unverified.
 */
export const partManifestSchema = z.object({
  runId,
  chartId,
  chartDate: isoDate,
  part: z.string().regex(/^part-[0-9a-f]{16}$/, 'a part name'),
  trackIds: z.array(trackId),
  files: z.array(lakeFileSchema),
  /**
   * What the part's attribute rows lack (`missingOf`), so that a run's summary counts it without
   * reading the CSV; absent in markers written before it was kept.
   */
  missing: missingCountsSchema.optional(),
  /** The HTTP requests per provider that the part's lookups took; absent in markers written before. */
  requests: requestCountsSchema.optional(),
  /** How many of its rows went to quarantine (`quarantine/song_attributes/…`). */
  quarantined: z.number().int().nonnegative().optional(),
});
export type PartManifest = z.infer<typeof partManifestSchema>;

/** A part as track-attributes lands it. */
export interface LandedPart extends PartManifest {
  /** The indexes in the manifest's `trackIds` of the tracks the part holds. */
  readonly indexes: readonly number[];
  /** The md5s of the part's two CSVs as the lake holds them (their ETags). */
  readonly attributesMd5: string;
  readonly artistsMd5: string;
}

/** Writes a part's marker, its manifest: after its files, since the marker says they are complete. */
export const markPart = async (store: ObjectStore, part: LandedPart): Promise<void> => {
  const { indexes, attributesMd5, artistsMd5, ...manifest } = part;
  const digest = partDigest(attributesMd5, artistsMd5);
  await store.put(
    lakeKeys.partMarker(part.chartDate, part.chartId, part.runId, part.part, digest, coverageOf(indexes)),
    JSON.stringify(parseOrThrow(partManifestSchema, manifest, `the manifest of ${part.part}`)),
    { contentType: 'application/json' },
  );
};

/**
 * The manifest a marker holds, or `undefined` for a marker written before markers had one (an
 * empty object) or gone since.
 *
 * @throws {InvalidRecordError} if the marker holds something that is not a part manifest
 */
export const readPartManifest = async (
  store: ObjectStore,
  markerKey: string,
): Promise<PartManifest | undefined> => {
  const body = await store.get(markerKey);
  if (body === undefined || body.byteLength === 0) return undefined;
  return parseJsonOrThrow(partManifestSchema, body.toString('utf8'), `part manifest ${markerKey}`);
};

const markerPattern = /\/_done\.run=([0-9A-Za-z-]+)\.(part-[0-9a-f]+)\.([0-9a-f]{16})\.([0-9a-f]+)$/;

/** Where a part's two CSVs are, and the marker that holds its manifest. */
export interface PartFiles {
  readonly attributesKey: string;
  readonly artistsKey: string;
  readonly markerKey: string;
}

/** A day's parts of one run, as the keys of its attributes prefixes tell them. */
export interface KeyedParts {
  /** The CSVs to load: one pair per part whose marker matches them. */
  readonly parts: readonly PartFiles[];
  /** The indexes of the manifest's tracks those parts hold. */
  readonly covered: ReadonlySet<number>;
  /**
   * Parts the run marked whose CSVs changed since (rewritten by another run with the same ids, or
   * by hand): only reading them can tell whose rows they hold now. Rare, so the usual day reads none.
   */
  readonly changed: readonly PartFiles[];
  /** Parts the run marked whose CSVs are gone: the marker is written after them, so they were removed. */
  readonly gone: readonly PartFiles[];
}

/**
 * The parts of a run that a listing of the day's attributes prefixes shows complete and unchanged:
 * the markers under `raw/song_attributes/…`, the CSVs in either layout (`layouts.ts`, `listDay`'s
 * `attributes`). A marker's CSVs are the pair whose md5s its digest names, else the pair listed.
 */
export const keyedParts = (
  listing: readonly ObjectInfo[],
  day: { chartDate: string; chartId: string },
  runId: string,
): KeyedParts => {
  const etags = new Map(listing.map((o) => [o.key, o.etag]));
  const listed = keysOf(listing);
  const parts = new Map<string, PartFiles>();
  const changed = new Map<string, PartFiles>();
  const gone = new Map<string, PartFiles>();
  const covered = new Set<number>();
  for (const { key } of listing) {
    const match = markerPattern.exec(key);
    if (
      !match ||
      match[1] !== runId ||
      !key.startsWith(rawPrefix('song_attributes', day.chartDate, day.chartId))
    )
      continue;
    const [, , part, digest, coverage] = match as unknown as [string, string, string, string, string];
    const { attributesKey, artistsKey } =
      partCsvCandidates(day, part).find((pair) => {
        const [attributes, artists] = [etags.get(pair.attributesKey), etags.get(pair.artistsKey)];
        return (
          attributes !== undefined && artists !== undefined && partDigest(attributes, artists) === digest
        );
      }) ?? partCsvs(day, part, listed);
    const attributesMd5 = etags.get(attributesKey);
    const artistsMd5 = etags.get(artistsKey);
    if (!attributesMd5 || !artistsMd5) {
      gone.set(part, { attributesKey, artistsKey, markerKey: key });
      continue;
    }
    // A marker whose CSVs were rewritten since says nothing of what they hold now.
    if (partDigest(attributesMd5, artistsMd5) !== digest) {
      changed.set(part, { attributesKey, artistsKey, markerKey: key });
      continue;
    }
    parts.set(part, { attributesKey, artistsKey, markerKey: key });
    for (const index of indexesOf(coverage)) covered.add(index);
  }
  for (const part of parts.keys()) {
    changed.delete(part);
    gone.delete(part);
  }
  return { parts: [...parts.values()], covered, changed: [...changed.values()], gone: [...gone.values()] };
};
