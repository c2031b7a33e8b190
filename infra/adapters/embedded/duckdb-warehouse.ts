import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import type { Mutex } from 'async-mutex';
import { InvalidRecordError } from '../../../shared/errors.js';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../../shared/ports/warehouse.js';
import { stageSchema, stageTableNames, type StageTableName } from '../../../shared/records/stage-tables.js';
import { bindNamed } from '../sql/named-params.js';
import { deleteSliceSql, deleteSlicesStatements, stageDdl } from '../sql/stage-ddl.js';

export interface DuckDbWarehouseOptions {
  /** The database file (`CHARTFLOW_HOME/warehouse.duckdb`). */
  readonly path: string;
  /** The lake's folder: keys of a load are files under it. */
  readonly lakeRoot: string;
  /**
   * Held for every use of the file. DuckDB lets one process write at a time, and dbt is another
   * process: the local dbt runner takes the file through {@link DuckDbWarehouse.exclusive}, which
   * holds the same mutex.
   */
  readonly mutex: Mutex;
}

const lakeKeyPattern = /^[A-Za-z0-9_=\-./]+$/;

/**
 * The warehouse on one machine. The file stays open between calls, for opening and closing it
 * (which checkpoints the database) on every call costs more than the calls themselves; it is
 * closed whenever another process needs it ({@link DuckDbWarehouse.exclusive}) and by `close`.
 */
export class DuckDbWarehouse implements Warehouse {
  #open: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;

  constructor(private readonly options: DuckDbWarehouseOptions) {}

  /**
   * Runs work that needs the file to itself (dbt, another process): the handle is closed first, and
   * nothing in this process touches the file until the work is done.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.options.mutex.runExclusive(async () => {
      this.#closeHandle();
      return work();
    });
  }

  /** Closes the file; the next call opens it again. */
  async close(): Promise<void> {
    await this.options.mutex.runExclusive(async () => this.#closeHandle());
  }

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
            const result = await connection
              .runAndReadAll(
                // COPY takes no bound file name: the path is a lake key we wrote, checked to hold only key characters.
                // DuckDB's CSV sniffer stays on although the dialect is given in full: it is what refuses
                // a file cut inside its header (test/infra/adapters/warehouse-failures.test.ts).
                `copy ${stageSchema}.${table} from ${this.#fileLiteral(key)} ` +
                  `(format csv, header true, delimiter ',', quote '"', escape '"', null '', allow_quoted_nulls false)`,
              )
              .catch((error: unknown) => {
                throw copyFailure(error, `COPY ${stageSchema}.${table} from ${key}`, load);
              });
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

  async cleanStage(slices: readonly StageSlice[]): Promise<void> {
    if (slices.length === 0) return;
    await this.#withConnection(async (connection) => {
      await connection.run('begin transaction');
      try {
        for (const table of stageTableNames)
          for (const { sql, params } of deleteSlicesStatements(table, slices))
            await this.#run(connection, sql, params);
        await connection.run('commit');
      } catch (error) {
        await connection.run('rollback');
        throw error;
      }
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
      if (!this.#open) {
        // chartflow's own statements are small (a day's COPY, the checks, the run summaries):
        // DuckDB's worker threads cost more than they bring there, and take the core that the
        // pipeline's own thread needs (docs/benchmark.md). dbt opens the file with its own settings.
        const instance = await DuckDBInstance.create(this.options.path, { threads: '1' });
        this.#open = { instance, connection: await instance.connect() };
      }
      return work(this.#open.connection);
    });
  }

  #closeHandle(): void {
    if (!this.#open) return;
    this.#open.connection.closeSync();
    this.#open.instance.closeSync();
    this.#open = undefined;
  }
}

/**
 * A COPY that failed names the load, the table and the file, with DuckDB's words up to its advice
 * on the CSV reader's options, on one line. A file DuckDB cannot read as the table's CSV
 * fails the same way every time: permanent, as Redshift's failed COPY is.
 */
const copyFailure = (error: unknown, what: string, load: StageLoad): unknown => {
  const message = (error as Error).message ?? String(error);
  const unreadable = /^(Invalid Input|Conversion|Constraint) Error/.test(message);
  if (!unreadable) return error;
  return new InvalidRecordError(
    `load of ${load.chartId} ${load.chartDate} (run ${load.runId}) failed at ${what}: ${words(message)}`,
    { cause: error },
  );
};

const words = (message: string): string => {
  const [said = message] = message.split(/\n(?=Possible fixes|Possible Solution|The search space)/i);
  const line = said.replace(/\s*\n\s*/g, '; ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
};

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
