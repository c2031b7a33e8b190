import type { StageTableName } from '../records/stage-tables.js';

/** A value bound to a named parameter (`:name`) of a statement. */
export type SqlValue = string | number | boolean | null;

/** One day and chart's files, to be loaded into the stage tables in one transaction. */
export interface StageLoad {
  readonly runId: string;
  readonly chartId: string;
  readonly chartDate: string;
  /** Lake keys of the CSV files (RFC 4180, with a header) for each stage table. */
  readonly files: Readonly<Record<StageTableName, readonly string[]>>;
}

/** Stage rows of one run of one day and chart: what a load replaces, what checks and clean-ups are about. */
export interface StageSlice {
  readonly runId: string;
  readonly chartId: string;
  readonly chartDate: string;
}

/**
 * The warehouse: Redshift on AWS, DuckDB on one machine, PostgreSQL in tests.
 * Statements use named parameters (`:name`); adapters bind them, never splice them in.
 */
export interface Warehouse {
  /** Creates the stage schema and tables if they are missing. */
  ensureStage(): Promise<void>;
  /** COPYs the files into the stage tables, all or nothing; returns the rows loaded per table. */
  loadStage(load: StageLoad): Promise<Record<StageTableName, number>>;
  /** Runs a read-only query. */
  query<R extends Record<string, unknown>>(sql: string, params?: Record<string, SqlValue>): Promise<R[]>;
  /** Deletes the slices' rows from every stage table, in one transaction; other slices stay. */
  cleanStage(slices: readonly StageSlice[]): Promise<void>;
}
