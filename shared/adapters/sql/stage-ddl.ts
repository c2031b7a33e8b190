import { stageSchema, stageTables, stageTableNames, type ColumnType } from '../../records/stage-tables.js';

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
