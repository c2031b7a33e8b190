import { existsSync } from 'node:fs';
import {
  DuckDBInstance,
  DuckDBTypeId,
  StatementType,
  type DuckDBConnection,
  type DuckDBType,
  type Json,
} from '@duckdb/node-api';
import { ConfigError } from '../../../shared/errors.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import {
  QueryRefusedError,
  oneLine,
  type ResultTable,
  type ResultValue,
  type WarehouseReader,
} from '../../../shared/ports/warehouse-reader.js';
import { bindNamed } from '../sql/named-params.js';

/**
 * The DuckDB warehouse file, read only. DuckDB opens it with `access_mode READ_ONLY`, so a write
 * fails with its own words; external access is off and the configuration locked, so a query can
 * neither ATTACH another file nor COPY out of the database, nor turn either back on.
 */
export class DuckDbReader implements WarehouseReader {
  readonly label: string;
  readonly #duckDb = new LazyDuckDb(() => this.#connect());

  constructor(private readonly path: string) {
    this.label = path;
  }

  async read(sql: string, params: Readonly<Record<string, SqlValue>> = {}): Promise<ResultTable> {
    return readOne(await this.#duckDb.connection(), sql, params);
  }

  close(): Promise<void> {
    return this.#duckDb.close();
  }

  async #connect(): Promise<OpenDuckDb> {
    if (!existsSync(this.path)) {
      throw new ConfigError(`there is no warehouse at ${this.path} yet: \`chartflow run\` makes one`);
    }
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(this.path, {
        access_mode: 'READ_ONLY',
        enable_external_access: 'false',
        lock_configuration: 'true',
      });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (/Could not set lock on file/i.test(message)) {
        throw new QueryRefusedError(
          `the warehouse ${this.path} is open for writing in another process (a run, a backfill): try again when it ends (${oneLine(message)})`,
          { cause: error },
        );
      }
      throw new QueryRefusedError(oneLine(message), { cause: error });
    }
    return { instance, connection: await instance.connect() };
  }
}

/** A DuckDB instance and its connection. */
export interface OpenDuckDb {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
}

/** A DuckDB opened on first use and closed once: the life of a reader's database. */
export class LazyDuckDb {
  #open: Promise<OpenDuckDb> | undefined;

  constructor(private readonly open: () => Promise<OpenDuckDb>) {}

  async connection(): Promise<DuckDBConnection> {
    return (await (this.#open ??= this.open())).connection;
  }

  async close(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (!open) return;
    const { instance, connection } = await open;
    connection.closeSync();
    instance.closeSync();
  }
}

/** Statements a read may run when only queries are allowed: a query, and the plan of one. */
const queryStatements = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/**
 * Runs one statement on a DuckDB connection, its `:name` parameters bound, and answers its result
 * as the port's plain values. Refuses more than one statement, and, with `queriesOnly`, anything
 * but a query (a `COPY … TO`, a `CREATE`, a `SET`): for a connection whose files are not
 * protected by a read-only database, such as the lake's views.
 */
export const readOne = async (
  connection: DuckDBConnection,
  sql: string,
  params: Readonly<Record<string, SqlValue>>,
  options: { readonly queriesOnly?: boolean } = {},
): Promise<ResultTable> => {
  const bound =
    Object.keys(params).length === 0
      ? { sql, values: {} }
      : (({ sql: text, names, values }) => ({
          sql: text,
          values: Object.fromEntries(names.map((n, i) => [n, values[i] ?? null])),
        }))(bindNamed(sql, params, (name) => `$${name}`));
  try {
    const statements = await connection.extractStatements(bound.sql);
    if (statements.count !== 1) {
      throw new QueryRefusedError(
        statements.count === 0
          ? 'the query is empty'
          : `one statement at a time: the query holds ${statements.count}`,
      );
    }
    const prepared = await statements.prepare(0);
    if (options.queriesOnly === true && !queryStatements.has(prepared.statementType)) {
      throw new QueryRefusedError(
        `only a query (select …) may run here: this statement is a ${StatementType[prepared.statementType] ?? 'statement'}`,
      );
    }
    if (Object.keys(bound.values).length > 0) prepared.bind(bound.values);
    const reader = await prepared.runAndReadAll();
    const types = reader.columnTypes();
    return {
      columns: reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() })),
      rows: reader.getRowsJson().map((row) => row.map((value, i) => plain(value, types[i]!))),
    };
  } catch (error) {
    if (error instanceof QueryRefusedError) throw error;
    // extractStatements puts its own words before the parser's.
    const message = ((error as Error).message ?? String(error)).replace(
      /^Failed to extract statements: /,
      '',
    );
    throw new QueryRefusedError(oneLine(message), { cause: error });
  }
};

const integerTypes = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

/**
 * DuckDB's JSON form of a value (integers past 32 bits and decimals as text, dates and timestamps as
 * DuckDB prints them) as the port's: numbers where they fit, timestamps as ISO text in UTC.
 */
const plain = (value: Json, type: DuckDBType): ResultValue => {
  if (value === null || typeof value !== 'string') return value as ResultValue;
  if (integerTypes.has(type.typeId)) {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value;
  }
  if (type.typeId === DuckDBTypeId.DECIMAL) return Number(value);
  if (type.typeId === DuckDBTypeId.TIMESTAMP || type.typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    const text = value.replace(' ', 'T');
    const zoned = type.typeId === DuckDBTypeId.TIMESTAMP_TZ;
    const at = new Date(zoned ? text.replace(/([+-]\d{2})$/, '$1:00') : `${text}Z`);
    return Number.isNaN(at.getTime()) ? value : at.toISOString();
  }
  return value;
};
