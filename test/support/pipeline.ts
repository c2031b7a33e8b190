import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLocalConfig } from '../../shared/config/config.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { stageSchema, stageTableNames } from '../../shared/records/stage-tables.js';
import { LocalPipeline, type TrackQueueOverrides } from '../../infra/local/runtime.js';
import type { SandboxOptions } from '../../infra/sandbox/server.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { createTestDatabase } from './services.js';

/** Columns that say which run wrote a row and when: they differ between runs by design. */
export const auditColumns = ['loaded_at', 'run_id'] as const;

export interface TestPipeline {
  readonly home: string;
  readonly pipeline: LocalPipeline;
  stop(): Promise<void>;
}

/** A real pipeline (sandbox over HTTP, real dbt) in a fresh home, on DuckDB or on a fresh PostgreSQL database. */
export const startTestPipeline = async (options: {
  label: string;
  warehouse?: 'duckdb' | 'postgres';
  queue?: TrackQueueOverrides;
  sandbox?: SandboxOptions;
  retry?: RetryPolicy;
  /**
   * More of the environment the configuration is parsed from (`CHARTFLOW_SANDBOX_ACCESS`,
   * `SPOTIFY_RATE_LIMIT`, `RECCOBEATS_RATE_LIMIT`…); the home and the warehouse are this helper's.
   */
  env?: Readonly<Record<string, string>>;
  /** Wraps the lake the pipeline's services use (a store that fails, that records). */
  store?: (store: ObjectStore) => ObjectStore;
}): Promise<TestPipeline> => {
  const home = await mkdtemp(path.join(tmpdir(), `chartflow-${options.label}-`));
  const database = options.warehouse === 'postgres' ? await createTestDatabase(options.label) : undefined;
  const config = parseLocalConfig({
    ...options.env,
    CHARTFLOW_HOME: home,
    ...(database ? { CHARTFLOW_WAREHOUSE: 'postgres', CHARTFLOW_PG_URL: database.url } : {}),
  });
  const pipeline = await LocalPipeline.start({
    config,
    processEnv: process.env,
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.store ? { wrap: { store: options.store } } : {}),
  });
  return {
    home,
    pipeline,
    stop: async () => {
      await pipeline.close();
      await database?.drop();
      await rm(home, { recursive: true, force: true });
    },
  };
};

/** The tables (and views) of the `marts` schema, as the warehouse lists them: every mart dbt built. */
export const martTableNames = async (warehouse: Warehouse): Promise<string[]> =>
  (
    await warehouse.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = :schema order by table_name',
      { schema: 'marts' },
    )
  ).map((r) => r.table_name);

/**
 * Every row of every mart, audit columns left out, as sorted JSON lines: equal snapshots mean equal
 * tables. The marts are those the warehouse has, so a new mart is compared as soon as dbt builds it.
 * Fractional numbers are compared to 12 significant digits: warehouses add floating-point values up
 * in their own order (PostgreSQL and DuckDB, or DuckDB's threads), which moves the last bits.
 */
export const martSnapshot = async (warehouse: Warehouse): Promise<Record<string, string[]>> => {
  const snapshot: Record<string, string[]> = {};
  for (const table of await martTableNames(warehouse)) {
    const rows = await warehouse.query(`select * from marts.${table}`);
    snapshot[table] = rows
      .map((row) =>
        JSON.stringify(
          Object.fromEntries(
            Object.entries(row)
              .filter(([column]) => !(auditColumns as readonly string[]).includes(column))
              .map(([column, value]) => [column, comparable(value)])
              .sort(([a], [b]) => String(a).localeCompare(String(b))),
          ),
        ),
      )
      .sort();
  }
  return snapshot;
};

const comparable = (value: unknown): unknown =>
  typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(12)) : value;

/** Rows left in the stage tables, all runs together. */
export const stageRows = async (warehouse: Warehouse): Promise<number> => {
  let total = 0;
  for (const table of stageTableNames) {
    const [row] = await warehouse.query<{ n: number }>(`select count(*) as n from ${stageSchema}.${table}`);
    total += Number(row?.n ?? 0);
  }
  return total;
};
