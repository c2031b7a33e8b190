import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ConfigError, InvalidRecordError, RetryableError } from '../../../shared/errors.js';
import { logger } from '../../../shared/logger.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../../shared/ports/warehouse.js';
import {
  columnNames,
  stageSchema,
  stageTableNames,
  type StageTableName,
} from '../../../shared/records/stage-tables.js';
import { bindNamed } from '../sql/named-params.js';
import { deleteSliceSql, deleteSlicesStatements, stageDdl } from '../sql/stage-ddl.js';

/**
 * The warehouse on PostgreSQL (the tests' stand-in for Redshift). Files are streamed from the lake
 * through `COPY … FROM STDIN`, the same CSV dialect Redshift COPYs from S3.
 */
export class PostgresWarehouse implements Warehouse {
  readonly #pool: pg.Pool;
  /** host:port/database, as errors name the warehouse (never the password). */
  readonly #where: string;

  constructor(
    connectionString: string,
    private readonly store: ObjectStore,
  ) {
    this.#pool = new pg.Pool({ connectionString, max: 4, types: { getTypeParser } });
    this.#where = URL.canParse(connectionString)
      ? `${new URL(connectionString).host}${new URL(connectionString).pathname}`
      : 'of CHARTFLOW_PG_URL';
    // The server may end an idle pooled connection (a restart, an administrator, a session
    // timeout). pg then drops it from the pool and emits the error here: without a listener it
    // would be the process's uncaught error. The next query simply takes a new connection.
    this.#pool.on('error', (error) =>
      logger.warn('A pooled PostgreSQL connection was ended by the server; it is replaced when next needed', {
        warehouse: this.#where,
        error: error.message,
      }),
    );
  }

  async ensureStage(): Promise<void> {
    await this.#transaction(async (client) => {
      // Concurrent loaders may both try to create the schema: serialize them on an advisory lock.
      await client.query('select pg_advisory_xact_lock(hashtext($1))', ['chartflow.stage.ddl']);
      for (const statement of stageDdl('postgres')) await client.query(statement);
    });
  }

  async loadStage(load: StageLoad): Promise<Record<StageTableName, number>> {
    const counts = Object.fromEntries(stageTableNames.map((t) => [t, 0])) as Record<StageTableName, number>;
    await this.#transaction(async (client) => {
      for (const table of stageTableNames) {
        await client.query(bound(deleteSliceSql(table), sliceParams(load)));
        for (const key of load.files[table]) {
          const body = await this.store.get(key);
          if (body === undefined) throw new Error(`COPY ${stageSchema}.${table}: ${key} is not in the lake`);
          // COPY's `header true` skips the first line unread: a file cut inside it would load no row, silently.
          if (!startsWithHeader(body, table))
            throw new InvalidRecordError(
              `load of ${load.chartId} ${load.chartDate} (run ${load.runId}) failed at COPY ${stageSchema}.${table} from ${key}: its first line is not the ${table} header`,
            );
          const copy = client.query(
            copyFrom(
              `copy ${stageSchema}.${table} (${columnNames(table).join(', ')}) from stdin with (format csv, header true)`,
            ),
          );
          try {
            await pipeline(Readable.from([body]), copy);
          } catch (error) {
            throw copyFailure(error, `COPY ${stageSchema}.${table} from ${key}`, load);
          }
          counts[table] += Number(copy.rowCount ?? 0);
        }
      }
    });
    // Redshift's COPY updates the tables' statistics; PostgreSQL leaves that to autovacuum, which may
    // come much later, so the planner would size the stage by what it held before (often nothing).
    await this.#pool.query(`analyze ${stageTableNames.map((t) => `${stageSchema}.${t}`).join(', ')}`);
    return counts;
  }

  async query<R extends Record<string, unknown>>(
    sql: string,
    params: Record<string, SqlValue> = {},
  ): Promise<R[]> {
    const result = await this.#pool.query(bound(sql, params)).catch((error: unknown) => {
      throw this.#unreachable(error);
    });
    return result.rows.map((row: Record<string, unknown>) => toPlain(row) as R);
  }

  async cleanStage(slices: readonly StageSlice[]): Promise<void> {
    if (slices.length === 0) return;
    await this.#transaction(async (client) => {
      for (const table of stageTableNames)
        for (const { sql, params } of deleteSlicesStatements(table, slices))
          await client.query(bound(sql, params));
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  /** Runs the work in one transaction on one connection: all of it commits, or none. */
  async #transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw this.#unreachable(error);
    });
    try {
      await client.query('begin');
      await work(client);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * A connection that fails names the warehouse: a refused or unknown host may pass (retryable); a
   * refused login or a database that does not exist is a setting to fix (CHARTFLOW_PG_URL). Other
   * errors (a statement PostgreSQL refused) are left as they are.
   */
  #unreachable(error: unknown): unknown {
    const code = (error as { code?: unknown }).code;
    const message = (error as Error).message ?? String(error);
    if (typeof code === 'string' && loginCodes.has(code))
      return new ConfigError(`the PostgreSQL warehouse ${this.#where} refused the connection: ${message}`, {
        cause: error,
      });
    const network =
      !(error instanceof pg.DatabaseError) &&
      ((typeof code === 'string' && /^E[A-Z]+$/.test(code)) || /^Connection terminated/.test(message));
    return network
      ? new RetryableError(`the PostgreSQL warehouse ${this.#where} cannot be reached: ${message}`, {
          cause: error,
        })
      : error;
  }
}

/** SQLSTATEs of a login that will not work by trying again: bad password or user, no such database. */
const loginCodes = new Set(['28000', '28P01', '3D000']);

/**
 * A COPY that failed names the load, the table and the file. A file PostgreSQL could not read as
 * the table's CSV (SQLSTATE class 22, data exception) fails the same way every time: permanent,
 * as Redshift's failed COPY is; anything else (a lost connection) keeps its own kind.
 */
const copyFailure = (error: unknown, what: string, load: StageLoad): unknown => {
  if (!(error instanceof pg.DatabaseError)) return error;
  const message = `load of ${load.chartId} ${load.chartDate} (run ${load.runId}) failed at ${what}: ${error.message}${
    error.where ? ` (${error.where})` : ''
  }`;
  return error.code?.startsWith('22') || error.code?.startsWith('23')
    ? new InvalidRecordError(message, { cause: error })
    : new RetryableError(message, { cause: error });
};

/** Whether a CSV's first line names the table's columns, in order (quoted or not, as csv.ts writes them). */
const startsWithHeader = (body: Buffer, table: StageTableName): boolean => {
  const end = body.indexOf('\n');
  const line = body
    .subarray(0, end === -1 ? body.length : end)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  return line.replace(/\r$/, '').replaceAll('"', '') === columnNames(table).join(',');
};

const bound = (sql: string, params: Record<string, SqlValue>): pg.QueryConfig => {
  const { sql: text, values } = bindNamed(sql, params, (_name, position) => `$${position}`);
  return { text, values };
};

const sliceParams = (slice: StageSlice): Record<string, SqlValue> => ({
  run_id: slice.runId,
  chart_id: slice.chartId,
  chart_date: slice.chartDate,
});

const oids = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114 } as const;

/**
 * The port speaks plain values, the same from every warehouse: int8 and numeric (which pg reads as
 * text, to be safe) as numbers, since ours fit in a double; dates as `YYYY-MM-DD` rather than a Date
 * at local midnight; timestamps, which are UTC without a zone, read as UTC rather than local time.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === oids.int8 || oid === oids.numeric) return (value: string) => Number(value);
  if (oid === oids.date) return (value: string) => value;
  if (oid === oids.timestamp) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

/** Timestamps arrive as Date: the port speaks ISO text. */
const toPlain = (row: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
