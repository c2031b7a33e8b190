import { stageTables, type ColumnType } from '../records/stage-tables.js';

/**
 * The lake's datasets, declared once: where each one's files lie, how they are partitioned, what
 * format they are in and what columns they hold. Athena's Glue tables (infra/lake-catalog.yml,
 * generated from this by `npm run infra:catalog`) and the DuckDB views of `chartflow sql --lake`
 * (infra/adapters/embedded/duckdb-lake-reader.ts) are both built from it, so that one query runs in
 * both places (docs/lake.md). The normalised datasets' columns are the stage tables' own
 * (`stage-tables.ts`): the stage DDL, the CSV headers, the checks and this catalog share one list,
 * and test/shared/lake/catalog.test.ts holds the dbt sources and staging models to it.
 */

/** A field's type: a stage column type, JSON kept as text, or a map, list or struct of types. */
export type LakeType =
  | ColumnType
  | 'json'
  | { readonly map: LakeType }
  | { readonly list: LakeType }
  | { readonly struct: readonly LakeField[] };

/** A column (or a struct's field): its name in queries, and the JSON key it is read from when that differs. */
export interface LakeField {
  readonly name: string;
  readonly type: LakeType;
  /** The key in the JSON record; the column's name when absent. */
  readonly key?: string;
}

/**
 * A partition of a dataset, as a folder of its keys. `date` and `chart` are Hive-style
 * (`date=2026-01-05/`, `chart=global/`); the quarantine's `dataset` is a plain folder name.
 */
export interface LakePartition {
  readonly name: 'date' | 'chart' | 'dataset';
  /** The folder's name with `${value}` for the partition's value. */
  readonly folder: string;
  /** The values a partition can take, when they are known in advance. */
  readonly values?: readonly string[];
}

export type LakeFormat = 'csv' | 'json';

export interface LakeDataset {
  readonly name: LakeDatasetName;
  readonly description: string;
  readonly format: LakeFormat;
  /** The folder under the lake's root that holds the dataset and nothing else, ending in `/`. */
  readonly root: string;
  /** Its partitions, outermost first: the folders under `root`. */
  readonly partitions: readonly LakePartition[];
  /**
   * The data files under a partition's folder, as a glob (`*.csv`; `**` for the run records, kept
   * in folders of their run and load). Athena reads everything under the folder, which is why a
   * dataset's root holds its files alone.
   */
  readonly files: string;
  /**
   * Where the files of days written before the normalised files had folders of their own lie
   * (read, never written): a glob under the lake's root. Athena does not see these (docs/lake.md).
   */
  readonly legacyFiles?: string;
  /** The columns of a record, in file order (partition columns are added after them). */
  readonly columns: readonly LakeField[];
}

export const lakeDatasetNames = [
  'chart_songs',
  'song_attributes',
  'song_artists',
  'quarantine',
  'run_records',
] as const;
export type LakeDatasetName = (typeof lakeDatasetNames)[number];

const date: LakePartition = { name: 'date', folder: 'date=${value}' };
const chart: LakePartition = { name: 'chart', folder: 'chart=${value}' };

const field = (name: string, type: LakeType, key?: string): LakeField =>
  key === undefined ? { name, type } : { name, type, key };

const stageColumns = (table: keyof typeof stageTables): LakeField[] =>
  stageTables[table].map((c) => field(c.name, c.type));

const requestCounts: LakeType = { map: 'integer' };

export const lakeCatalog: Readonly<Record<LakeDatasetName, LakeDataset>> = {
  chart_songs: {
    name: 'chart_songs',
    description: 'The normalised chart of a day: one row per entry, as the last run of the day fetched it.',
    format: 'csv',
    root: 'tables/chart_songs/',
    partitions: [date, chart],
    files: '*.csv',
    legacyFiles: 'raw/chart_songs/date=*/chart=*/chart_songs.csv',
    columns: stageColumns('chart_songs'),
  },
  song_attributes: {
    name: 'song_attributes',
    description:
      "One row per track looked up by a run for a day: its attributes, or why it has none. Every run's parts are kept.",
    format: 'csv',
    root: 'tables/song_attributes/',
    partitions: [date, chart],
    files: '*.csv',
    legacyFiles: 'raw/song_attributes/date=*/chart=*/*.song_attributes.csv',
    columns: stageColumns('song_attributes'),
  },
  song_artists: {
    name: 'song_artists',
    description: "One row per artist credit of a track looked up by a run, in the track's order.",
    format: 'csv',
    root: 'tables/song_artists/',
    partitions: [date, chart],
    files: '*.csv',
    legacyFiles: 'raw/song_attributes/date=*/chart=*/*.song_artists.csv',
    columns: stageColumns('song_artists'),
  },
  quarantine: {
    name: 'quarantine',
    description:
      'Every chart entry and provider answer set aside because it failed validation, with the reason and the raw record.',
    format: 'json',
    root: 'quarantine/',
    partitions: [
      { name: 'dataset', folder: '${value}', values: ['chart_songs', 'song_attributes'] },
      date,
      chart,
    ],
    files: '*.json',
    columns: [
      field('reason', 'text'),
      field('run_id', 'text', 'runId'),
      field('track_id', 'text', 'trackId'),
      field('provider', 'text'),
      field('raw', 'json'),
    ],
  },
  run_records: {
    name: 'run_records',
    description:
      'What happened to each load of each run of a day and chart: status, rows, checks, timings, requests.',
    format: 'json',
    root: 'control/runs/',
    partitions: [date, chart],
    files: '**/*.json',
    columns: [
      field('run_id', 'text', 'runId'),
      field('load_id', 'text', 'loadId'),
      field('chart_id', 'text', 'chartId'),
      field('chart_date', 'text', 'chartDate'),
      field('status', 'text'),
      field('reason', 'text'),
      field('rows', { map: 'bigint' }),
      field('checks', {
        list: { struct: [field('name', 'text'), field('passed', 'boolean'), field('detail', 'text')] },
      }),
      field('timings', {
        struct: [field('loadMs', 'double'), field('checksMs', 'double'), field('dbtMs', 'double')],
      }),
      field('batch', {
        struct: [field('batchId', 'text'), field('loads', 'integer'), field('failedLoads', 'integer')],
      }),
      field('transform', {
        struct: [
          field('taskId', 'text'),
          field('startedAt', 'text'),
          field('finishedAt', 'text'),
          field('message', 'text'),
        ],
      }),
      field('landing', { struct: [field('requests', requestCounts), field('quarantined', 'integer')] }),
      field('dead_lettered', 'integer', 'deadLettered'),
      field(
        'damaged_files',
        {
          list: { struct: [field('key', 'text'), field('kind', 'text'), field('detail', 'text')] },
        },
        'damagedFiles',
      ),
      field('updated_at', 'text', 'updatedAt'),
    ],
  },
};

export const lakeDatasets: readonly LakeDataset[] = lakeDatasetNames.map((name) => lakeCatalog[name]);

/** The partition columns' type: text in every engine (`date` compares as `'2026-01-05'`). */
export const partitionType: ColumnType = 'text';

/** The folder of one partition's values under a dataset's root: `date=2026-01-05/chart=global/`. */
export const partitionFolder = (dataset: LakeDataset, values: Readonly<Record<string, string>>): string =>
  dataset.partitions
    .map((p) => {
      const value = values[p.name];
      if (value === undefined) throw new RangeError(`${dataset.name}: no value for partition ${p.name}`);
      return `${p.folder.replace('${value}', value)}/`;
    })
    .join('');
