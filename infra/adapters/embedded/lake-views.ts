import path from 'node:path';
import {
  lakeDatasets,
  type LakeDataset,
  type LakeField,
  type LakeType,
} from '../../../shared/lake/catalog.js';

/**
 * The DuckDB views of `chartflow sql --lake`: one per dataset of the lake's catalog, named and typed
 * as its Glue table is on AWS (infra/lake-catalog.yml), reading the files where they lie with
 * DuckDB's Hive partitioning (docs/lake.md). Built from `shared/lake/catalog.ts`, never written
 * by hand.
 */

const primitive: Record<Exclude<LakeType, object>, string> = {
  text: 'VARCHAR',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
};

/** A catalog type as DuckDB names it: `MAP(VARCHAR, BIGINT)`, `STRUCT("name" VARCHAR)[]`. */
export const duckDbType = (type: LakeType): string => {
  if (typeof type === 'string') return primitive[type];
  if ('map' in type) return `MAP(VARCHAR, ${duckDbType(type.map)})`;
  if ('list' in type) return `${duckDbType(type.list)}[]`;
  return `STRUCT(${type.struct.map((f) => `${identifier(f.key ?? f.name)} ${duckDbType(f.type)}`).join(', ')})`;
};

/** A column's type as the view gives it: JSON is text there, as Athena's string. */
const viewType = (type: LakeType): string => (type === 'json' ? 'VARCHAR' : duckDbType(type));

const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Text as a SQL string literal. Only the lake's own paths and the catalog's names go through it. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The glob of a dataset's data files under the lake's root, across all its partitions. */
export const datasetGlob = (dataset: LakeDataset): string =>
  `${dataset.root}${dataset.partitions.map((p) => p.folder.replace('${value}', '*')).join('/')}/${dataset.files}`;

/** The globs to read for a dataset: its own folders, and where older days keep their files. */
export const datasetGlobs = (dataset: LakeDataset): string[] => [
  datasetGlob(dataset),
  ...(dataset.legacyFiles === undefined ? [] : [dataset.legacyFiles]),
];

const partitionColumns = (dataset: LakeDataset): string[] =>
  dataset.partitions.map((p) =>
    p.name === 'dataset'
      ? // A plain folder, not `key=value`: taken from the file's path.
        `regexp_extract(filename, ${literal(`/${dataset.root.replace(/\/$/, '')}/([^/]+)/date=`)}, 1) as ${identifier(p.name)}`
      : identifier(p.name),
  );

const selected = (f: LakeField): string => {
  const source = identifier(f.key ?? f.name);
  return f.type === 'json'
    ? `cast(${source} as VARCHAR) as ${identifier(f.name)}`
    : `${source} as ${identifier(f.name)}`;
};

const reader = (dataset: LakeDataset, files: readonly string[]): string => {
  const list = `[${files.map(literal).join(', ')}]`;
  const columns = `{${dataset.columns.map((c) => `${literal(c.key ?? c.name)}: ${literal(duckDbType(c.type))}`).join(', ')}}`;
  const hive = `hive_partitioning = true, hive_types = {'date': 'VARCHAR', 'chart': 'VARCHAR'}, filename = true`;
  return dataset.format === 'csv'
    ? // The dialect the pipeline writes (shared/records/csv.ts): every text quoted, NULL an empty unquoted cell.
      `read_csv(${list}, header = true, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, columns = ${columns}, ${hive})`
    : `read_json(${list}, format = 'auto', columns = ${columns}, ${hive})`;
};

/**
 * The statement that creates a dataset's view over the files that exist (absolute paths or globs):
 * its columns in catalog order, then its partitions. With no file yet, the view has the same
 * columns and no row.
 */
export const lakeViewSql = (dataset: LakeDataset, files: readonly string[]): string => {
  const name = identifier(dataset.name);
  if (files.length === 0) {
    const columns = [
      ...dataset.columns.map((c) => `cast(null as ${viewType(c.type)}) as ${identifier(c.name)}`),
      ...dataset.partitions.map((p) => `cast(null as VARCHAR) as ${identifier(p.name)}`),
    ];
    return `create or replace view ${name} as select ${columns.join(', ')} where false`;
  }
  const columns = [...dataset.columns.map(selected), ...partitionColumns(dataset)];
  return `create or replace view ${name} as select ${columns.join(', ')} from ${reader(dataset, files)}`;
};

/** Every dataset of the catalog with its globs made absolute under the lake's root. */
export const lakeGlobs = (lakeRoot: string): { dataset: LakeDataset; globs: string[] }[] =>
  lakeDatasets.map((dataset) => ({
    dataset,
    globs: datasetGlobs(dataset).map((glob) => path.join(lakeRoot, glob)),
  }));
