import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../../../shared/errors.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import {
  QueryRefusedError,
  oneLine,
  type ResultTable,
  type WarehouseReader,
} from '../../../shared/ports/warehouse-reader.js';
import { LazyDuckDb, readOne, type OpenDuckDb } from './duckdb-reader.js';
import { lakeGlobs, lakeViewSql, literal } from './lake-views.js';

/**
 * The lake's folder as tables, read only: `chartflow sql --lake`. An in-memory DuckDB holds one
 * view per dataset of the lake's catalog (`lake-views.ts`), over the files where they lie. Nothing
 * can be written: DuckDB may open files only under the lake's folder (`allowed_directories`, with
 * external access otherwise off and the configuration locked), and only a query runs (a `COPY …
 * TO` into the lake is refused before it starts).
 */
export class DuckDbLakeReader implements WarehouseReader {
  readonly label: string;
  readonly #duckDb = new LazyDuckDb(() => this.#connect());

  constructor(private readonly lakeRoot: string) {
    this.label = `the lake at ${lakeRoot}`;
  }

  async read(sql: string, params: Readonly<Record<string, SqlValue>> = {}): Promise<ResultTable> {
    return readOne(await this.#duckDb.connection(), sql, params, { queriesOnly: true });
  }

  close(): Promise<void> {
    return this.#duckDb.close();
  }

  async #connect(): Promise<OpenDuckDb> {
    if (!existsSync(this.lakeRoot)) {
      throw new ConfigError(`there is no lake at ${this.lakeRoot} yet: \`chartflow run\` makes one`);
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    try {
      await connection.run(`set allowed_directories = [${literal(`${this.lakeRoot}/`)}]`);
      await connection.run('set enable_external_access = false');
      for (const { dataset, globs } of lakeGlobs(this.lakeRoot)) {
        const present: string[] = [];
        for (const glob of globs) {
          const found = await connection.runAndReadAll(`select 1 from glob(${literal(glob)}) limit 1`);
          if (found.currentRowCount > 0) present.push(glob);
        }
        await connection.run(lakeViewSql(dataset, present));
      }
      await connection.run('set lock_configuration = true');
    } catch (error) {
      connection.closeSync();
      instance.closeSync();
      throw new QueryRefusedError(`could not open the lake's tables: ${oneLine((error as Error).message)}`, {
        cause: error,
      });
    }
    return { instance, connection };
  }
}
