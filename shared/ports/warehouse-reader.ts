import { PermanentError } from '../errors.js';
import type { SqlValue } from './warehouse.js';

/**
 * A value of a result, the same from every warehouse: numbers (integers that fit a double, and
 * decimals), booleans, text; dates as `YYYY-MM-DD`, timestamps as ISO text in UTC; a list or a
 * struct as an array or an object of values. An integer too large for a double stays text.
 */
export type ResultValue =
  string | number | boolean | null | readonly ResultValue[] | { readonly [field: string]: ResultValue };

/** A column of a result: its name, and its type as the warehouse names it (`BIGINT`, `int8`, …). */
export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

/** What a query answered: its columns in order, and its rows as values in the columns' order. */
export interface ResultTable {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly ResultValue[])[];
}

/**
 * The warehouse, read only: what `chartflow sql` and `chartflow report` ask it. Every adapter makes
 * the warehouse itself refuse a write (DuckDB's file opened read-only, PostgreSQL's and Redshift's
 * read-only transactions), so a statement that would change something fails with the warehouse's
 * own words and changes nothing. One statement per call; `:name` parameters are bound, never spliced.
 */
export interface WarehouseReader {
  /** Where it reads, as messages name it (`/home/…/warehouse.duckdb`, `host:5432/db`, a workgroup). */
  readonly label: string;
  read(sql: string, params?: Readonly<Record<string, SqlValue>>): Promise<ResultTable>;
  close(): Promise<void>;
}

/**
 * The warehouse refused a query or could not run it: a syntax error, a missing table, a write. The
 * message is the warehouse's own, on one line.
 */
export class QueryRefusedError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueryRefusedError';
  }
}

/** A warehouse's error message on one line: its lines joined, a caret line (`   ^`) dropped. */
export const oneLine = (message: string): string =>
  message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^\^+$/.test(line))
    .join(' ');
