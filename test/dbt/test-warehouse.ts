import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import {
  stageSchema,
  stageTableNames,
  stageTables,
  type StageTableName,
} from '../../shared/records/stage-tables.js';
import { columnSqlType, stageDdl } from '../../infra/adapters/sql/stage-ddl.js';
import { DuckDbReader } from '../../infra/adapters/embedded/duckdb-reader.js';
import { PostgresReader } from '../../infra/adapters/postgres/postgres-reader.js';
import type { WarehouseReader } from '../../shared/ports/warehouse-reader.js';

/** A stage row: column name to value, missing columns are null. */
export type StageRow = Readonly<Record<string, string | number | boolean | null>>;

/** A row read back: dates and timestamps as text (the queries cast them), bigints as numbers. */
export type ReadRow = Record<string, unknown>;

/** The schemas dbt owns, besides the stage: dropped whenever a suite starts from an empty warehouse. */
const dbtSchemas = ['staging', 'intermediate', 'snapshots', 'marts'] as const;

/** One insert per row, every value bound ($1...) and cast to its column's type. */
const insertStatement = (table: StageTableName): string => {
  const columns = stageTables[table];
  return `insert into ${stageSchema}.${table} (${columns.map((c) => c.name).join(', ')}) values (${columns
    .map((c, i) => `cast($${i + 1} as ${columnSqlType('postgres', c.type)})`)
    .join(', ')})`;
};

const rowValues = (table: StageTableName, row: StageRow): (string | number | boolean | null)[] =>
  stageTables[table].map((c) => row[c.name] ?? null);

const dropStatements = (): string[] =>
  [stageSchema, ...dbtSchemas].map((schema) => `drop schema if exists ${schema} cascade`);

/**
 * The warehouse a dbt test target runs against, seen from the test: set up the stage, fill it,
 * read the marts. It holds no connection between calls, so dbt can open the database meanwhile.
 */
export interface TestWarehouse {
  /** dbt's `--target`. */
  readonly target: 'duckdb' | 'postgres';
  /** The environment the dbt profile reads for this target. */
  readonly dbtEnv: Readonly<Record<string, string>>;
  /** Drops the stage and dbt's schemas, then creates empty stage tables. */
  reset(): Promise<void>;
  /** Empties the stage tables, as the pipeline does after every run. */
  emptyStage(): Promise<void>;
  insert(table: StageTableName, rows: readonly StageRow[]): Promise<void>;
  query(sql: string): Promise<ReadRow[]>;
  /** The warehouse as `chartflow sql` and `chartflow report` read it. */
  reader(): WarehouseReader;
}

const plainValue = (value: unknown): unknown => (typeof value === 'bigint' ? Number(value) : value);

/** DuckDB in a file. Every call opens and closes its own instance: DuckDB allows one writer process. */
export class DuckDbTestWarehouse implements TestWarehouse {
  readonly target = 'duckdb';
  readonly dbtEnv: Readonly<Record<string, string>>;

  constructor(private readonly path: string) {
    this.dbtEnv = { CHARTFLOW_DUCKDB_PATH: path };
  }

  reader(): WarehouseReader {
    return new DuckDbReader(this.path);
  }

  async reset(): Promise<void> {
    await this.#run([...dropStatements(), ...stageDdl('duckdb')]);
  }

  async emptyStage(): Promise<void> {
    await this.#run(stageTableNames.map((table) => `delete from ${stageSchema}.${table}`));
  }

  async insert(table: StageTableName, rows: readonly StageRow[]): Promise<void> {
    await this.#with(async (connection) => {
      for (const row of rows) await connection.run(insertStatement(table), rowValues(table, row));
    });
  }

  async query(sql: string): Promise<ReadRow[]> {
    return this.#with(async (connection) => {
      const reader = await connection.runAndReadAll(sql);
      return reader
        .getRowObjectsJS()
        .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plainValue(v)])));
    });
  }

  async #run(statements: readonly string[]): Promise<void> {
    await this.#with(async (connection) => {
      for (const statement of statements) await connection.run(statement);
    });
  }

  async #with<T>(
    work: (connection: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>,
  ): Promise<T> {
    const instance = await DuckDBInstance.create(this.path);
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }
}

// Read bigints as numbers and dates/timestamps as the text the server sends, whatever the local time zone.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8) return (text: string) => Number(text);
    if (oid === pg.types.builtins.DATE || oid === pg.types.builtins.TIMESTAMP) return (text: string) => text;
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** A PostgreSQL database. The schema names are fixed: give each test file a database of its own. */
export class PostgresTestWarehouse implements TestWarehouse {
  readonly target = 'postgres';
  readonly dbtEnv: Readonly<Record<string, string>>;

  reader(): WarehouseReader {
    return new PostgresReader(this.url);
  }

  constructor(private readonly url: string) {
    const parsed = new URL(url);
    this.dbtEnv = {
      CHARTFLOW_PG_HOST: parsed.hostname,
      CHARTFLOW_PG_PORT: parsed.port || '5432',
      CHARTFLOW_PG_USER: decodeURIComponent(parsed.username || 'postgres'),
      CHARTFLOW_PG_PASSWORD: decodeURIComponent(parsed.password),
      CHARTFLOW_PG_DATABASE: parsed.pathname.replace(/^\//, '') || 'postgres',
    };
  }

  async reset(): Promise<void> {
    await this.#run([...dropStatements(), ...stageDdl('postgres')]);
  }

  async emptyStage(): Promise<void> {
    await this.#run(stageTableNames.map((table) => `delete from ${stageSchema}.${table}`));
  }

  async insert(table: StageTableName, rows: readonly StageRow[]): Promise<void> {
    await this.#with(async (client) => {
      for (const row of rows) await client.query(insertStatement(table), rowValues(table, row));
    });
  }

  async query(sql: string): Promise<ReadRow[]> {
    return this.#with(async (client) => (await client.query(sql)).rows as ReadRow[]);
  }

  async #run(statements: readonly string[]): Promise<void> {
    await this.#with(async (client) => {
      // Dropping a schema that does not exist still says so, at NOTICE level: keep test output quiet.
      await client.query('set client_min_messages = warning');
      for (const statement of statements) await client.query(statement);
    });
  }

  async #with<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.url, types: pgTypes });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}
