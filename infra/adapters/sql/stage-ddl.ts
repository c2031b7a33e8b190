import type { SqlValue, StageSlice } from '../../../shared/ports/warehouse.js';
import {
  stageSchema,
  stageTables,
  stageTableNames,
  type ColumnType,
} from '../../../shared/records/stage-tables.js';

export type Dialect = 'duckdb' | 'postgres' | 'redshift';

const types: Record<Dialect, Record<ColumnType, string>> = {
  duckdb: {
    text: 'varchar',
    integer: 'integer',
    bigint: 'bigint',
    double: 'double',
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamp',
  },
  postgres: {
    text: 'text',
    integer: 'integer',
    bigint: 'bigint',
    double: 'double precision',
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamp',
  },
  // Redshift's varchar counts bytes; names with emoji and right-to-left text need room.
  redshift: {
    text: 'varchar(65535)',
    integer: 'integer',
    bigint: 'bigint',
    double: 'double precision',
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamp',
  },
};

/** A stage column type's name in a dialect. */
export const columnSqlType = (dialect: Dialect, type: ColumnType): string => types[dialect][type];

/** The statements that create the stage schema and tables, if missing, in a dialect. */
export const stageDdl = (dialect: Dialect): string[] => [
  `create schema if not exists ${stageSchema}`,
  ...stageTableNames.map(
    (table) =>
      `create table if not exists ${stageSchema}.${table} (\n  ${stageTables[table]
        .map((c) => `${c.name} ${types[dialect][c.type]}${c.nullable ? '' : ' not null'}`)
        .join(',\n  ')}\n)`,
  ),
];

/** Deletes one run of a day and chart from a stage table; `:run_id`, `:chart_id`, `:chart_date` are bound. */
export const deleteSliceSql = (table: string): string =>
  `delete from ${stageSchema}.${table} where run_id = :run_id and chart_id = :chart_id and chart_date = cast(:chart_date as date)`;

/** Slices per statement of {@link deleteSlicesStatements}: bounded, so no statement grows with a year of days. */
const slicesPerStatement = 100;

/**
 * Deletes many slices from a stage table: one statement per hundred slices, each slice's values
 * bound (`:run_id_0`, `:chart_id_0`, `:chart_date_0`, …). Plain `or` of `and`s, which every
 * warehouse runs (Redshift has no multi-row VALUES in FROM).
 */
export const deleteSlicesStatements = (
  table: string,
  slices: readonly StageSlice[],
): { sql: string; params: Record<string, SqlValue> }[] => {
  const statements: { sql: string; params: Record<string, SqlValue> }[] = [];
  for (let start = 0; start < slices.length; start += slicesPerStatement) {
    const chunk = slices.slice(start, start + slicesPerStatement);
    const params: Record<string, SqlValue> = {};
    const conditions = chunk.map((slice, i) => {
      params[`run_id_${i}`] = slice.runId;
      params[`chart_id_${i}`] = slice.chartId;
      params[`chart_date_${i}`] = slice.chartDate;
      return `(run_id = :run_id_${i} and chart_id = :chart_id_${i} and chart_date = cast(:chart_date_${i} as date))`;
    });
    statements.push({ sql: `delete from ${stageSchema}.${table} where ${conditions.join(' or ')}`, params });
  }
  return statements;
};
