import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import type { Mutex } from 'async-mutex';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../ports/warehouse.js';
import { stageSchema, stageTableNames, type StageTableName } from '../../records/stage-tables.js';
import { bindNamed } from '../sql/named-params.js';
import { deleteSliceSql, stageDdl } from '../sql/stage-ddl.js';

export interface DuckDbWarehouseOptions {
  /** The database file (`CHARTFLOW_HOME/warehouse.duckdb`). */
  readonly path: string;
  /** The lake's folder: keys of a load are files under it. */
  readonly lakeRoot: string;
  /**
   * Held for every use of the file. DuckDB lets one process write at a time, and dbt is another
   * process: the local dbt runner holds the same mutex while dbt runs.
   */
  readonly mutex: Mutex;
}

const lakeKeyPattern = /^[A-Za-z0-9_=\-./]+$/;

/**
 * The warehouse on one machine. No handle stays open between calls: each call opens the file,
 * works, and closes it, so that dbt can open it in between.
 */
export class DuckDbWarehouse implements Warehouse {
  constructor(private readonly options: DuckDbWarehouseOptions) {}

  async ensureStage(): Promise<void> {
    await this.#withConnection(async (connection) => {
      for (const statement of stageDdl('duckdb')) await connection.run(statement);
    });
  }

  /** COPYs each file into its table, as Redshift COPYs from S3: all files in one transaction, the slice replaced. */
  async loadStage(load: StageLoad): Promise<Record<StageTableName, number>> {
    return this.#withConnection(async (connection) => {
      const counts = Object.fromEntries(stageTableNames.map((t) => [t, 0])) as Record<StageTableName, number>;
      await connection.run('begin transaction');
      try {
        for (const table of stageTableNames) {
          await this.#run(connection, deleteSliceSql(table), sliceParams(load));
          for (const key of load.files[table]) {
            const result = await connection.runAndReadAll(
              // COPY takes no bound file name: the path is a lake key we wrote, checked to hold only key characters.
              `copy ${stageSchema}.${table} from ${this.#fileLiteral(key)} ` +
                `(format csv, header true, delimiter ',', quote '"', escape '"', null '', allow_quoted_nulls false)`,
            );
            counts[table] += Number(result.getRows()[0]?.[0] ?? 0);
          }
        }
        await connection.run('commit');
      } catch (error) {
        await connection.run('rollback');
        throw error;
      }
      return counts;
    });
  }

  async query<R extends Record<string, unknown>>(
    sql: string,
    params: Record<string, SqlValue> = {},
  ): Promise<R[]> {
    return this.#withConnection(async (connection) => {
      const bound = bindNamed(sql, params, (name) => `$${name}`);
      const reader = await connection.runAndReadAll(bound.sql, namedValues(bound.names, bound.values));
      const dates = new Set(
        reader.columnNames().filter((_, i) => reader.columnTypes()[i]?.typeId === DuckDBTypeId.DATE),
      );
      return reader.getRowObjectsJS().map((row) => toPlain(row, dates) as R);
    });
  }

  async cleanStage(slice: StageSlice): Promise<void> {
    await this.#withConnection(async (connection) => {
      await connection.run('begin transaction');
      for (const table of stageTableNames)
        await this.#run(connection, deleteSliceSql(table), sliceParams(slice));
      await connection.run('commit');
    });
  }

  async #run(connection: DuckDBConnection, sql: string, params: Record<string, SqlValue>): Promise<void> {
    const bound = bindNamed(sql, params, (name) => `$${name}`);
    await connection.run(bound.sql, namedValues(bound.names, bound.values));
  }

  #fileLiteral(key: string): string {
    if (!lakeKeyPattern.test(key) || key.split('/').includes('..')) {
      throw new RangeError(`refusing to COPY from "${key}": not a lake key`);
    }
    return `'${path.join(this.options.lakeRoot, key).replaceAll("'", "''")}'`;
  }

  async #withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.options.mutex.runExclusive(async () => {
      const instance = await DuckDBInstance.create(this.options.path);
      const connection = await instance.connect();
      try {
        return await work(connection);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    });
  }
}

const sliceParams = (slice: StageSlice): Record<string, SqlValue> => ({
  run_id: slice.runId,
  chart_id: slice.chartId,
  chart_date: slice.chartDate,
});

const namedValues = (names: string[], values: SqlValue[]): Record<string, string | number | boolean | null> =>
  Object.fromEntries(names.map((n, i) => [n, values[i] ?? null]));

/**
 * The port speaks plain values, the same from every warehouse: numbers (DuckDB's BIGINT arrives as
 * bigint), dates as `YYYY-MM-DD`, timestamps as ISO text (UTC).
 */
const toPlain = (row: Record<string, unknown>, dates: ReadonlySet<string>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => {
      if (typeof v === 'bigint') return [k, Number(v)];
      if (v instanceof Date) return [k, dates.has(k) ? v.toISOString().slice(0, 10) : v.toISOString()];
      return [k, v];
    }),
  );
