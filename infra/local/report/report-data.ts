import type { RunRecord } from '../../../shared/lake/run-records.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import type { ResultTable, ResultValue, WarehouseReader } from '../../../shared/ports/warehouse-reader.js';
import {
  chartingVsCatalogSql,
  chartNowSql,
  featureSourcesSql,
  featuresByBandSql,
  lastChartDaySql,
  longestArtistsSql,
  longestTracksSql,
  martTablesSql,
  newReleasesWeeklySql,
  runLengthsSql,
  topNewReleasesSql,
  trajectoriesSql,
} from './report-queries.js';

/** Rows of a result as objects keyed by column. */
export type Row = Readonly<Record<string, ResultValue>>;

/** What the report is about: a chart and a period of days. */
export interface ReportScope {
  readonly chartId: string;
  /** The period's first and last days, `YYYY-MM-DD`. */
  readonly from: string;
  readonly to: string;
}

/** A section's rows, or why it has none (then the page says so instead of drawing a chart). */
export type Section<T> = { readonly kind: 'rows'; readonly rows: T } | EmptySection;

/** A section with nothing to show, and the sentence that says why. */
export interface EmptySection {
  readonly kind: 'empty';
  readonly why: string;
}

/** Everything the report shows, read from the marts and the run records. */
export interface ReportData {
  readonly scope: ReportScope;
  /** Where it was read: the warehouse's label, and the lake's. */
  readonly warehouse: string;
  readonly generatedAt: string;
  /** The chart day "the chart now" shows (the period's last with entries), and how many days the period has. */
  readonly lastDay: string | undefined;
  readonly daysWithEntries: number;
  readonly chartNow: Section<Row[]>;
  readonly trajectories: Section<Row[]>;
  readonly longevity: Section<{ runLengths: Row[]; tracks: Row[]; artists: Row[] }>;
  readonly features: Section<{ bands: Row[]; catalog: Row[]; sources: Row[] }>;
  readonly newReleases: Section<{ weeks: Row[]; top: Row[] }>;
  readonly health: Section<RunRecord[]>;
}

/** The marts each section reads: a warehouse without one of them gets that section's "not built yet". */
export const sectionMarts = {
  chartNow: ['fct_chart_entries', 'dim_tracks', 'mart_track_longevity'],
  trajectories: ['fct_chart_entries', 'dim_tracks'],
  longevity: ['fct_chart_runs', 'mart_track_longevity', 'mart_artist_longevity'],
  features: ['mart_features_by_position_band', 'mart_charting_vs_catalog', 'dim_tracks', 'fct_chart_entries'],
  newReleases: ['mart_new_releases_weekly', 'mart_track_longevity'],
} as const;

const rowsOf = (result: ResultTable): Row[] =>
  result.rows.map((values) => Object.fromEntries(result.columns.map((c, i) => [c.name, values[i] ?? null])));

/** The Monday of the ISO week of a day: the weeks the period touches start on or after it. */
const weekStartOf = (day: string): string => {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
};

/**
 * Reads what the report shows. A warehouse that does not exist yet, or lacks the marts, gives
 * sections that say so; so does a period without entries. Queries run one after the other: a
 * warehouse reader holds one connection.
 */
export const gatherReport = async (options: {
  readonly reader: WarehouseReader | undefined;
  readonly scope: ReportScope;
  readonly runs: readonly RunRecord[];
  readonly now: Date;
}): Promise<ReportData> => {
  const { reader, scope, runs, now } = options;
  const params: Record<string, SqlValue> = {
    chart_id: scope.chartId,
    date_from: scope.from,
    date_to: scope.to,
  };
  const read = async (sql: string, extra: Record<string, SqlValue> = {}) =>
    rowsOf(await reader!.read(sql, { ...params, ...extra }));

  const tables = reader ? new Set((await read(martTablesSql)).map((r) => String(r.table_name))) : new Set();
  const missing = (section: keyof typeof sectionMarts): EmptySection | undefined => {
    const absent = sectionMarts[section].filter((t) => !tables.has(t));
    if (absent.length === 0) return undefined;
    return {
      kind: 'empty',
      why: reader
        ? `No data yet: the warehouse has no ${absent.map((t) => `marts.${t}`).join(', ')} (chartflow run builds the marts).`
        : 'No data yet: there is no warehouse (chartflow run makes one).',
    };
  };

  let lastDay: string | undefined;
  let daysWithEntries = 0;
  if (!missing('chartNow')) {
    const [last] = await read(lastChartDaySql);
    lastDay = typeof last?.chart_date === 'string' ? last.chart_date : undefined;
    daysWithEntries = Number(last?.days ?? 0);
  }
  const sections = await readSections(read, missing, lastDay, scope);
  return {
    scope,
    warehouse: reader?.label ?? 'no warehouse (there is none yet)',
    generatedAt: now.toISOString(),
    lastDay,
    daysWithEntries,
    ...sections,
    health:
      runs.length > 0
        ? { kind: 'rows', rows: [...runs] }
        : { kind: 'empty', why: `No runs recorded yet for chart ${scope.chartId}.` },
  };
};

type Read = (sql: string, extra?: Record<string, SqlValue>) => Promise<Row[]>;
type Sections = Omit<
  ReportData,
  'scope' | 'warehouse' | 'generatedAt' | 'lastDay' | 'daysWithEntries' | 'health'
>;
type RowsOf<K extends keyof Sections> = Sections[K] extends Section<infer T> ? T : never;

/** Each section's rows, or why it has none: its marts are missing, or the period has no entries. */
const readSections = async (
  read: Read,
  missing: (section: keyof typeof sectionMarts) => EmptySection | undefined,
  lastDay: string | undefined,
  scope: ReportScope,
): Promise<Sections> => {
  const noEntries: EmptySection = {
    kind: 'empty',
    why: `No data yet: chart ${scope.chartId} has no entries from ${scope.from} to ${scope.to}.`,
  };
  const whenEntries = async <K extends keyof typeof sectionMarts>(
    section: K,
    rows: () => Promise<RowsOf<K>>,
    isEmpty: (rows: RowsOf<K>) => boolean,
    empty: EmptySection = noEntries,
  ): Promise<Section<RowsOf<K>>> => {
    const absent = missing(section);
    if (absent) return absent;
    if (!lastDay) return noEntries;
    const found = await rows();
    return isEmpty(found) ? empty : { kind: 'rows', rows: found };
  };
  const week = { week_from: weekStartOf(scope.from) };
  return {
    chartNow: await whenEntries(
      'chartNow',
      () => read(chartNowSql, { day: lastDay! }),
      (r) => r.length === 0,
    ),
    trajectories: await whenEntries(
      'trajectories',
      () => read(trajectoriesSql),
      (r) => r.length === 0,
    ),
    longevity: await whenEntries(
      'longevity',
      async () => ({
        runLengths: await read(runLengthsSql),
        tracks: await read(longestTracksSql),
        artists: await read(longestArtistsSql),
      }),
      (r) => r.runLengths.length === 0 && r.tracks.length === 0,
    ),
    features: await whenEntries(
      'features',
      async () => ({
        bands: await read(featuresByBandSql),
        catalog: await read(chartingVsCatalogSql),
        sources: await read(featureSourcesSql),
      }),
      (r) => r.bands.length === 0,
    ),
    newReleases: await whenEntries(
      'newReleases',
      async () => ({
        weeks: await read(newReleasesWeeklySql, week),
        top: await read(topNewReleasesSql, week),
      }),
      (r) => r.weeks.length === 0,
      {
        kind: 'empty',
        why: `No new releases on chart ${scope.chartId} from ${scope.from} to ${scope.to} (a track charting within 28 days of its release).`,
      },
    ),
  };
};
