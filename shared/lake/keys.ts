import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { StageTableName } from '../records/stage-tables.js';

/**
 * Where everything lives in the lake (docs/architecture.md, "Key layout"). What was received, the
 * day's manifest and the part markers sit under `raw/`, whose ObjectCreated events drive the
 * loader; each normalized dataset has a folder of its own under `tables/`, holding its CSVs and
 * nothing else, so that Athena (which reads every file under a table's location) or DuckDB can read
 * it as a table. Control objects (claims, run records, locks) and `tables/` sit outside `raw/`, so
 * that writing them fires no load.
 */
export const datasets = ['chart_songs', 'song_attributes'] as const;
export type Dataset = (typeof datasets)[number];

export const isoDate = z.iso.date();

const datePart = (date: string) => `date=${date}`;
const chartPart = (chart: string) => `chart=${chart}`;

export const rawPrefix = (dataset: Dataset, date: string, chart?: string): string =>
  chart === undefined
    ? `raw/${dataset}/${datePart(date)}/`
    : `raw/${dataset}/${datePart(date)}/${chartPart(chart)}/`;

/**
 * The folder of one normalized dataset's CSVs (`tables/<table>/date=…/chart=…/`): its files only,
 * so that a table over `tables/<table>/` reads nothing else.
 */
export const tablePrefix = (table: StageTableName, date: string, chart?: string): string =>
  chart === undefined
    ? `tables/${table}/${datePart(date)}/`
    : `tables/${table}/${datePart(date)}/${chartPart(chart)}/`;

/**
 * Where users drop chart files (Spotify Charts CSV downloads). Outside `raw/`, so that a file
 * fires chart-fetch, not a load; chart-fetch lands it under `raw/` as any other chart.
 */
export const inboxChartsPrefix = 'inbox/charts/';

/**
 * The batch an inbox key names, by the folder right above the file (`inbox/charts/batch=<id>/…`);
 * `undefined` for a file dropped on its own, which runs as its own day.
 */
export const batchOfInboxKey = (key: string): string | undefined =>
  /(?:^|\/)batch=([^/]+)\/[^/]+$/.exec(key)?.[1];

/** Where the Redshift COPY manifests live: the COPY role reads this prefix (and `tables/`, `raw/`). */
export const copyManifestsPrefix = 'control/copy-manifests/';

const batchMembersPrefix = (batchId: string) => `control/batches/batch=${batchId}/loads/`;

export const lakeKeys = {
  /** The playlist pages exactly as Spotify returned them. */
  chartRaw: (date: string, chart: string) => `${rawPrefix('chart_songs', date, chart)}source-response.json`,
  /** A chart file as it was dropped into the inbox (a Spotify Charts CSV), kept next to what was made of it. */
  chartSourceFile: (date: string, chart: string) => `${rawPrefix('chart_songs', date, chart)}source-file.csv`,
  /** The normalized chart, read by COPY: the one file of its day and chart in its table's folder. */
  chartCsv: (date: string, chart: string) => `${tablePrefix('chart_songs', date, chart)}chart_songs.csv`,
  /** The track ids the day expects, written after the chart itself. */
  manifest: (date: string, chart: string) => `${rawPrefix('chart_songs', date, chart)}manifest.json`,
  /**
   * One lookup's raw answer (under `raw/`) and its normalized rows (a CSV in each of its tables'
   * folders under `tables/`); `part` is derived from the ids it covers.
   */
  attributesRaw: (date: string, chart: string, part: string) =>
    `${rawPrefix('song_attributes', date, chart)}${part}.response.json`,
  attributesCsv: (date: string, chart: string, part: string) =>
    `${tablePrefix('song_attributes', date, chart)}${part}.csv`,
  artistsCsv: (date: string, chart: string, part: string) =>
    `${tablePrefix('song_artists', date, chart)}${part}.csv`,
  /**
   * Written by track-attributes after a part's CSVs: the key alone says which run wrote the part,
   * what the CSVs were (`digest`, of their md5s) and which of the manifest's tracks they hold
   * (`coverage`), so that the stage loader decides a day is complete from a listing. Its name starts
   * with `_`, which Hive-style readers (Athena, DuckDB) skip. See `part-markers.ts`.
   */
  partMarker: (date: string, chart: string, runId: string, part: string, digest: string, coverage: string) =>
    `${rawPrefix('song_attributes', date, chart)}_done.run=${runId}.${part}.${digest}.${coverage}`,
  /** The markers of one run's part: one there means the part is complete (a redelivery has nothing to do). */
  partMarkersPrefix: (date: string, chart: string, runId: string, part: string) =>
    `${rawPrefix('song_attributes', date, chart)}_done.run=${runId}.${part}.`,
  /** Created once per run of a day and chart: whoever creates it loads the stage. */
  claim: (date: string, chart: string, runId: string) =>
    `control/claims/${datePart(date)}/${chartPart(chart)}/run=${runId}.json`,
  claimsPrefix: (date: string, chart?: string) =>
    chart === undefined
      ? `control/claims/${datePart(date)}/`
      : `control/claims/${datePart(date)}/${chartPart(chart)}/`,
  /** The outcome of one load of a run: checks, dbt, timings. */
  runRecord: (date: string, chart: string, runId: string, loadId: string) =>
    `control/runs/${datePart(date)}/${chartPart(chart)}/run=${runId}/load=${loadId}.json`,
  runRecordsPrefix: (date: string, chart: string) => `control/runs/${datePart(date)}/${chartPart(chart)}/`,
  /** A transform batch: the loads its one dbt build transforms, fixed when the transform starts. */
  batch: (batchId: string) => `control/batches/batch=${batchId}/batch.json`,
  /** A load that joined a backfill batch, written by the stage loader as it loads. */
  batchMember: (batchId: string, date: string, chart: string, loadId: string) =>
    `${batchMembersPrefix(batchId)}${datePart(date)}/${chartPart(chart)}/load=${loadId}.json`,
  batchMembersPrefix: (batchId: string) => batchMembersPrefix(batchId),
  /** Held while a transform runs against the warehouse (invariant 5). */
  transformLock: () => 'control/locks/transform.json',
  /** Where a chart file dropped into the inbox lands; its ObjectCreated event starts chart-fetch. */
  inboxChart: (fileName: string) => `${inboxChartsPrefix}${fileName}`,
  /**
   * A chart file of a batch (`chartflow ingest --target aws`): its day joins the batch, whose one
   * transform runs once every day the batch expects is loaded.
   */
  inboxBatchChart: (batchId: string, fileName: string) => `${inboxChartsPrefix}batch=${batchId}/${fileName}`,
  /** The days a batch of chart files expects, written before its files (see `inboxBatchChart`). */
  batchExpected: (batchId: string) => `control/batches/batch=${batchId}/expected.json`,
  /**
   * The Redshift COPY manifest naming one stage table's files for a run's load: COPY loads exactly
   * the objects it lists (a plain `FROM 's3://…/key'` is a prefix, and would load `key.bak` too).
   * Under `control/`, not `raw/`, so writing it fires no load; a retried load of the run overwrites it.
   */
  copyManifest: (date: string, chart: string, runId: string, table: string) =>
    `${copyManifestsPrefix}${datePart(date)}/${chartPart(chart)}/run=${runId}/${table}.manifest`,
  /**
   * A track of a day and chart whose attributes a run could not get (a quota, a provider error):
   * the persistent backlog (shared/lake/backlog.ts). Under `control/`, so writing it fires no load.
   */
  backlogEntry: (date: string, chart: string, trackId: string) =>
    `control/backlog/${datePart(date)}/${chartPart(chart)}/track=${trackId}.json`,
  /** The backlog of every day, of one day, or of one day and chart. */
  backlogPrefix: (date?: string, chart?: string) =>
    date === undefined
      ? 'control/backlog/'
      : chart === undefined
        ? `control/backlog/${datePart(date)}/`
        : `control/backlog/${datePart(date)}/${chartPart(chart)}/`,
  /** A record that failed validation, kept with its reason. */
  quarantine: (dataset: Dataset, date: string, chart: string, name: string) =>
    `quarantine/${dataset}/${datePart(date)}/${chartPart(chart)}/${name}.json`,
} as const;

/**
 * The normalized CSVs as they were named before each dataset had its folder under `tables/`:
 * written before the `tables/` layout, beside the raw answers under `raw/`; read, never written.
 * A day is in one layout or the other (one run writes one layout); a re-run of a legacy day writes
 * the new one, and readers take the `tables/` file when the listing has it
 * (docs/architecture.md, "Key layout").
 */
export const legacyLakeKeys = {
  chartCsv: (date: string, chart: string) => `${rawPrefix('chart_songs', date, chart)}chart_songs.csv`,
  attributesCsv: (date: string, chart: string, part: string) =>
    `${rawPrefix('song_attributes', date, chart)}${part}.song_attributes.csv`,
  artistsCsv: (date: string, chart: string, part: string) =>
    `${rawPrefix('song_attributes', date, chart)}${part}.song_artists.csv`,
} as const;

/**
 * A short, stable name for a run's set of ids: the same ids in any order give the same part, so a
 * redelivered batch finds its part written; another run's part of the same ids has another name,
 * so a part's files, once written, are never written again (docs/reliability.md).
 */
export const partName = (runId: string, ids: readonly string[]): string =>
  `part-${createHash('sha256')
    .update(`${runId}\n${[...new Set(ids)].sort().join('\n')}`)
    .digest('hex')
    .slice(0, 16)}`;

const rawKeyPattern =
  /^raw\/(chart_songs|song_attributes)\/date=(\d{4}-\d{2}-\d{2})\/chart=([^/]+)\/([^/]+)$/;

/** The dataset, day and chart of a raw key, or `undefined` for any other key. */
export const parseRawKey = (
  key: string,
): { dataset: Dataset; date: string; chart: string; file: string } | undefined => {
  const match = rawKeyPattern.exec(key);
  if (!match) return undefined;
  const [, dataset, date, chart, file] = match as unknown as [string, Dataset, string, string, string];
  return isoDate.safeParse(date).success ? { dataset, date, chart, file } : undefined;
};

const tableKeyPattern =
  /^tables\/(chart_songs|song_attributes|song_artists)\/date=(\d{4}-\d{2}-\d{2})\/chart=([^/]+)\/([^/]+)$/;

/** The table, day and chart of a key under `tables/`, or `undefined` for any other key. */
export const parseTableKey = (
  key: string,
): { table: StageTableName; date: string; chart: string; file: string } | undefined => {
  const match = tableKeyPattern.exec(key);
  if (!match) return undefined;
  const [, table, date, chart, file] = match as unknown as [string, StageTableName, string, string, string];
  return isoDate.safeParse(date).success ? { table, date, chart, file } : undefined;
};

const copyManifestKeyPattern =
  /^control\/copy-manifests\/date=(\d{4}-\d{2}-\d{2})\/chart=([^/]+)\/run=([^/]+)\/([^/]+)\.manifest$/;

/** The day, chart, run and table of a {@link lakeKeys}`.copyManifest` key, or `undefined` for any other key. */
export const parseCopyManifestKey = (
  key: string,
): { date: string; chart: string; runId: string; table: string } | undefined => {
  const match = copyManifestKeyPattern.exec(key);
  if (!match) return undefined;
  const [, date, chart, runId, table] = match as unknown as [string, string, string, string, string];
  return isoDate.safeParse(date).success ? { date, chart, runId, table } : undefined;
};
