import pg from 'pg';
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
 * The PostgreSQL warehouse, read only: every query runs alone in a `READ ONLY` transaction that is
 * rolled back, sent with the extended protocol, which takes one statement (so no `COMMIT; …` can
 * end the transaction early). PostgreSQL refuses a write with its own words.
 */
export class PostgresReader implements WarehouseReader {
  readonly label: string;
  #client: Promise<pg.Client> | undefined;

  constructor(private readonly connectionString: string) {
    this.label = URL.canParse(connectionString)
      ? `${new URL(connectionString).host}${new URL(connectionString).pathname}`
      : 'CHARTFLOW_PG_URL';
  }

  async read(sql: string, params: Readonly<Record<string, SqlValue>> = {}): Promise<ResultTable> {
    const client = await this.#connection();
    const bound =
      Object.keys(params).length === 0
        ? { sql, values: [] }
        : bindNamed(sql, params, (_, position) => `$${position}`);
    await client.query('begin transaction read only');
    try {
      // pg's types lack `queryMode`, which pg has had since 8.12: the extended protocol, one statement.
      const config: pg.QueryArrayConfig & { queryMode: 'extended' } = {
        text: bound.sql,
        values: bound.values,
        rowMode: 'array',
        queryMode: 'extended',
        types: { getTypeParser },
      };
      const result = await client.query<unknown[]>(config);
      const oids = [...new Set(result.fields.map((f) => f.dataTypeID))];
      const names = new Map(
        (
          await client.query<{ oid: number; typname: string }>(
            'select oid::int as oid, typname from pg_catalog.pg_type where oid = any($1)',
            [oids],
          )
        ).rows.map((r) => [r.oid, r.typname]),
      );
      return {
        columns: result.fields.map((f) => ({
          name: f.name,
          type: names.get(f.dataTypeID) ?? `oid ${f.dataTypeID}`,
        })),
        rows: result.rows.map((row) => row.map(plain)),
      };
    } catch (error) {
      throw new QueryRefusedError(oneLine((error as Error).message ?? String(error)), { cause: error });
    } finally {
      // Nothing to keep either way; a connection that broke mid-query is not the query's error.
      await client.query('rollback').catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await (await client?.catch(() => undefined))?.end();
  }

  /**
   * The connection, opened on first use. One the server ends while it idles (a restart, an
   * administrator) is forgotten, so that the next query connects again, instead of being the
   * process's uncaught error.
   */
  #connection(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({ connectionString: this.connectionString });
    const connected = this.#connect(client);
    const forget = () => {
      if (this.#client === connected) this.#client = undefined;
    };
    client.on('error', forget);
    client.on('end', forget);
    this.#client = connected;
    return connected;
  }

  async #connect(client: pg.Client): Promise<pg.Client> {
    try {
      await client.connect();
    } catch (error) {
      throw new ConfigError(
        `the PostgreSQL warehouse ${this.label} cannot be reached: ${oneLine((error as Error).message ?? String(error))}`,
        { cause: error },
      );
    }
    return client;
  }
}

const oids = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

/**
 * pg's text values as the port's: int8 a number where it fits a double (else text), numeric a
 * number, a date its `YYYY-MM-DD`, timestamps ISO text in UTC (ours are UTC without a zone).
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === oids.int8)
    return (value: string) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
  if (oid === oids.numeric) return (value: string) => Number(value);
  if (oid === oids.date) return (value: string) => value;
  if (oid === oids.timestamp) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`).toISOString();
  if (oid === oids.timestamptz) return (value: string) => new Date(value).toISOString();
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

/** What pg's own parsers give (a Date for an unknown zone, a Buffer) as a port value. */
const plain = (value: unknown): ResultValue => {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return value as ResultValue;
};
