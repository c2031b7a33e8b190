import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import { lakeKeys, legacyLakeKeys, rawPrefix, tablePrefix } from './keys.js';

/**
 * Where a day's normalized CSVs are, whichever layout wrote them (docs/architecture.md, "Key
 * layout"). Since each dataset has its folder under `tables/`, a run writes its CSVs there; a day
 * written before keeps them beside its raw answers under `raw/` ({@link legacyLakeKeys}), where
 * they are read, never written. One run writes one layout, so a file's layout follows from the
 * listing: the `tables/` key when it is listed, else the legacy key. A re-run of a legacy day writes
 * the `tables/` layout, so the newest chart CSV is always the `tables/` one when both are there.
 */

type Day = { readonly chartDate: string; readonly chartId: string };

/** A day's keys under every prefix that holds its files, in both layouts. */
export interface DayListing {
  /** `raw/chart_songs/…` (the payload, the manifest, a legacy chart CSV) and `tables/chart_songs/…`. */
  readonly charts: readonly ObjectInfo[];
  /**
   * `raw/song_attributes/…` (the raw answers, the part markers, legacy part CSVs),
   * `tables/song_attributes/…` and `tables/song_artists/…`.
   */
  readonly attributes: readonly ObjectInfo[];
}

/** Lists a day and chart under every prefix its files may be in (five listings, at once). */
export const listDay = async (store: ObjectStore, day: Day): Promise<DayListing> => {
  const { chartDate, chartId } = day;
  const [rawCharts, charts, rawAttributes, attributes, artists] = await Promise.all([
    store.list(rawPrefix('chart_songs', chartDate, chartId)),
    store.list(tablePrefix('chart_songs', chartDate, chartId)),
    store.list(rawPrefix('song_attributes', chartDate, chartId)),
    store.list(tablePrefix('song_attributes', chartDate, chartId)),
    store.list(tablePrefix('song_artists', chartDate, chartId)),
  ]);
  return { charts: [...rawCharts, ...charts], attributes: [...rawAttributes, ...attributes, ...artists] };
};

/** The keys of a listing, to look keys up in. */
export const keysOf = (listing: readonly ObjectInfo[]): ReadonlySet<string> =>
  new Set(listing.map((o) => o.key));

/**
 * The day's newest chart CSV: the `tables/` one when listed, else the legacy one (which is also
 * the key named when neither is there).
 */
export const newestChartCsv = (day: Day, listed: ReadonlySet<string>): string => {
  const current = lakeKeys.chartCsv(day.chartDate, day.chartId);
  return listed.has(current) ? current : legacyLakeKeys.chartCsv(day.chartDate, day.chartId);
};

/**
 * The chart CSV a manifest's run wrote: the one its files list (either layout); for a manifest
 * without files (written before checksums), the newest one listed.
 */
export const chartCsvOfManifest = (
  day: Day,
  manifestFiles: readonly { readonly key: string }[] | undefined,
  listed: ReadonlySet<string>,
): string => {
  const keys = [
    lakeKeys.chartCsv(day.chartDate, day.chartId),
    legacyLakeKeys.chartCsv(day.chartDate, day.chartId),
  ];
  return manifestFiles?.find((f) => keys.includes(f.key))?.key ?? newestChartCsv(day, listed);
};

/**
 * Whether a run's chart CSV is a legacy one with a `tables/` one listed beside it: written by a
 * later run (runs since write the `tables/` layout), which is rewriting the day.
 */
export const chartCsvSuperseded = (day: Day, chartCsv: string, listed: ReadonlySet<string>): boolean =>
  chartCsv === legacyLakeKeys.chartCsv(day.chartDate, day.chartId) &&
  listed.has(lakeKeys.chartCsv(day.chartDate, day.chartId));

/** A part's two CSVs. */
export interface PartCsvs {
  readonly attributesKey: string;
  readonly artistsKey: string;
}

/** A part's two CSVs in each layout: the `tables/` pair first. */
export const partCsvCandidates = (day: Day, part: string): readonly [PartCsvs, PartCsvs] => [
  {
    attributesKey: lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
    artistsKey: lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
  },
  {
    attributesKey: legacyLakeKeys.attributesCsv(day.chartDate, day.chartId, part),
    artistsKey: legacyLakeKeys.artistsCsv(day.chartDate, day.chartId, part),
  },
];

/**
 * A part's two CSVs where the listing has them: in `tables/` when either is listed there, else the
 * legacy pair when either is listed there, else (both gone) the `tables/` pair.
 */
export const partCsvs = (day: Day, part: string, listed: ReadonlySet<string>): PartCsvs => {
  const [current, legacy] = partCsvCandidates(day, part);
  const has = (pair: PartCsvs) => listed.has(pair.attributesKey) || listed.has(pair.artistsKey);
  return has(current) || !has(legacy) ? current : legacy;
};

/** Every key a part's files may have, in both layouts: its raw answer and its CSVs. */
export const partKeysInAnyLayout = (day: Day, part: string): string[] => [
  lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
  ...partCsvCandidates(day, part).flatMap((pair) => [pair.attributesKey, pair.artistsKey]),
];

const currentPartCsv = /^(part-[0-9a-f]+)\.csv$/;
const legacyPartFile = /^(part-[0-9a-f]+)\.(?:response\.json|song_attributes\.csv|song_artists\.csv)$/;

/**
 * The part a key of the day's attributes listing belongs to (a raw answer, or a CSV in either
 * layout), or `undefined` for any other key (a marker, a stray file).
 */
export const partOfKey = (day: Day, key: string): string | undefined => {
  const { chartDate, chartId } = day;
  for (const prefix of [
    tablePrefix('song_attributes', chartDate, chartId),
    tablePrefix('song_artists', chartDate, chartId),
  ]) {
    if (key.startsWith(prefix)) return currentPartCsv.exec(key.slice(prefix.length))?.[1];
  }
  const raw = rawPrefix('song_attributes', chartDate, chartId);
  return key.startsWith(raw) ? legacyPartFile.exec(key.slice(raw.length))?.[1] : undefined;
};

/** Whether a key is an attributes CSV of the day, in either layout. */
export const isAttributesCsv = (day: Day, key: string): boolean => {
  const part = partOfKey(day, key);
  // Stryker disable next-line ConditionalExpression: without the guard, the candidates of an undefined part name `undefined`, which no key of the day's listing is
  return part !== undefined && partCsvCandidates(day, part).some((pair) => pair.attributesKey === key);
};

/**
 * The parts whose attributes CSV and artists CSV are both listed, in either layout, by name; a part
 * listed in both layouts (which no writer makes) counts once, as its `tables/` pair.
 */
export const listedPartCsvs = (day: Day, listing: readonly ObjectInfo[]): (PartCsvs & { part: string })[] => {
  const listed = keysOf(listing);
  const parts = new Map<string, PartCsvs & { part: string }>();
  for (const { key } of listing) {
    const part = partOfKey(day, key);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: the guard saves work only: an undefined part's candidates are never listed, and a part seen again finds and sets the same pair
    if (part === undefined || parts.has(part)) continue;
    for (const pair of partCsvCandidates(day, part)) {
      if (listed.has(pair.attributesKey) && listed.has(pair.artistsKey)) {
        parts.set(part, { part, ...pair });
        break;
      }
    }
  }
  return [...parts.values()].sort((a, b) => a.attributesKey.localeCompare(b.attributesKey));
};
