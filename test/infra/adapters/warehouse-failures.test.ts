import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { PostgresWarehouse } from '../../../infra/adapters/postgres/postgres-warehouse.js';
import { ConfigError, InvalidRecordError, isRetryable, RetryableError } from '../../../shared/errors.js';
import type { StageLoad, Warehouse } from '../../../shared/ports/warehouse.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import { createTestDatabase, postgresAvailable, postgresUrl } from '../../support/services.js';

/**
 * What the warehouse answers when a lake file is damaged, or the warehouse itself cannot be used:
 * an error naming the load, the table and the file (or the warehouse), of the right kind
 * (permanent for a file that will never load, retryable for a server that may come back), and
 * nothing staged (docs/inputs.md, "Warehouse answers").
 */
const chartDate = '2026-11-20';
const chartCsv = (runId: string) =>
  toStageCsv(
    'chart_songs',
    Array.from({ length: 40 }, (_, i) => ({
      chart_id: 'global',
      chart_date: chartDate,
      run_id: runId,
      extracted_at: '2026-11-21 06:00:00.000',
      position: i + 1,
      track_id: `track${i}`,
      track_name: `Song "${i}", live`,
      artist_names: 'A, B',
      streams: 1000 * (i + 1),
      source: 'test',
    })),
  );

/** The damages a chart file can come with: each must be refused, naming the file. */
const damages: [string, (csv: string) => Buffer][] = [
  ['cut in the middle of a quoted name', (csv) => Buffer.from(csv.slice(0, csv.indexOf('Song ""7""') + 6))],
  ['cut inside its header', (csv) => Buffer.from(csv.slice(0, 30))],
  [
    'with 400 random bytes in it',
    (csv) =>
      Buffer.concat([
        Buffer.from(csv.slice(0, 900)),
        Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 151 + 7) % 256)),
        Buffer.from(csv.slice(900)),
      ]),
  ],
  ['with a row of too few cells', (csv) => Buffer.from(`${csv}"global","${chartDate}","short"\n`)],
];

const loadOf = (runId: string, key: string): StageLoad => ({
  runId,
  chartId: 'global',
  chartDate,
  files: { chart_songs: [key], song_attributes: [], song_artists: [] },
});

const stagedRows = async (warehouse: Warehouse, runId: string) =>
  Number(
    (
      await warehouse.query<{ n: number }>('select count(*) as n from stage.chart_songs where run_id = :r', {
        r: runId,
      })
    )[0]!.n,
  );

interface Fixture {
  readonly warehouse: Warehouse;
  readonly store: FsObjectStore;
  readonly lakeRoot: string;
  cleanup(): Promise<void>;
}

const describeDamagedFiles = (name: string, make: () => Promise<Fixture | undefined>) =>
  describe(`Class: ${name}, given damaged lake files`, () => {
    let fixture: Fixture | undefined;
    beforeAll(async () => {
      fixture = await make();
      if (!fixture) return;
      await fixture.warehouse.ensureStage();
      await fixture.store.put('raw/test/good/chart_songs.csv', chartCsv('run-good-0001'));
      await fixture.warehouse.loadStage(loadOf('run-good-0001', 'raw/test/good/chart_songs.csv'));
    });
    afterAll(async () => fixture?.cleanup());

    it.for(damages)(
      'refuses a chart file %s: a permanent error naming the load, table and file; nothing staged; the file kept',
      async ([what, damage], context) => {
        if (!fixture) return context.skip();
        const { warehouse, store, lakeRoot } = fixture;
        const runId = `run-${what.replace(/\W+/g, '-')}`.slice(0, 40);
        const key = `raw/test/${runId}/chart_songs.csv`;
        const body = damage(chartCsv(runId));
        await store.put(key, body);

        const failure = await warehouse.loadStage(loadOf(runId, key)).catch((error: unknown) => error);

        expect(failure).toBeInstanceOf(InvalidRecordError);
        expect(isRetryable(failure)).toBe(false);
        expect((failure as Error).message).toMatch(
          new RegExp(
            `^load of global ${chartDate} \\(run ${runId}\\) failed at COPY stage\\.chart_songs from ${key.replace(/[.]/g, '\\.')}: \\S`,
          ),
        );
        expect((failure as Error).message).not.toContain('Possible fixes');
        expect(await stagedRows(warehouse, runId)).toBe(0);
        expect(await stagedRows(warehouse, 'run-good-0001')).toBe(40);
        expect(await readFile(path.join(lakeRoot, key))).toEqual(body);
      },
    );
  });

describeDamagedFiles('DuckDbWarehouse', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-duck-failures-'));
  const lakeRoot = path.join(home, 'lake');
  const warehouse = new DuckDbWarehouse({
    path: path.join(home, 'warehouse.duckdb'),
    lakeRoot,
    mutex: new Mutex(),
  });
  return {
    warehouse,
    store: new FsObjectStore({ root: lakeRoot }),
    lakeRoot,
    cleanup: async () => {
      await warehouse.close();
      await rm(home, { recursive: true, force: true });
    },
  };
});

describeDamagedFiles('PostgresWarehouse', async () => {
  if (!(await postgresAvailable())) return undefined;
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-pg-failures-'));
  const lakeRoot = path.join(home, 'lake');
  const store = new FsObjectStore({ root: lakeRoot });
  const database = await createTestDatabase('warehouse_failures');
  const warehouse = new PostgresWarehouse(database.url, store);
  return {
    warehouse,
    store,
    lakeRoot,
    cleanup: async () => {
      await warehouse.close();
      await database.drop();
      await rm(home, { recursive: true, force: true });
    },
  };
});

describe('Class: PostgresWarehouse, when the server cannot be used', () => {
  let home: string;
  let store: FsObjectStore;
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-pg-down-'));
    store = new FsObjectStore({ root: home });
    await store.put('raw/test/down/chart_songs.csv', chartCsv('run-down-0001'));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  /** A loopback port nothing listens on: taken, then given back. */
  const closedPort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });

  it('names the warehouse it cannot reach, without the password, as an error worth another try', async () => {
    const port = await closedPort();
    const warehouse = new PostgresWarehouse(`postgres://chartflow:s3cret@127.0.0.1:${port}/lakehouse`, store);
    try {
      for (const attempt of [
        () => warehouse.loadStage(loadOf('run-down-0001', 'raw/test/down/chart_songs.csv')),
        () => warehouse.query('select 1'),
        () => warehouse.ensureStage(),
      ]) {
        const failure = await attempt().catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(RetryableError);
        expect((failure as Error).message).toBe(
          `the PostgreSQL warehouse 127.0.0.1:${port}/lakehouse cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
        expect((failure as Error).message).not.toContain('s3cret');
      }
    } finally {
      await warehouse.close();
    }
  });

  it('names a database that does not exist as a setting to fix (CHARTFLOW_PG_URL), not worth another try', async (context) => {
    if (!(await postgresAvailable())) return context.skip();
    const url = new URL(postgresUrl);
    url.pathname = '/chartflow_no_such_database';
    const warehouse = new PostgresWarehouse(url.toString(), store);
    try {
      const failure = await warehouse.query('select 1').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toBe(
        `the PostgreSQL warehouse ${url.host}/chartflow_no_such_database refused the connection: database "chartflow_no_such_database" does not exist`,
      );
    } finally {
      await warehouse.close();
    }
  });
});

describe('Class: DuckDbWarehouse, when its file is not a DuckDB database', () => {
  it('names the file, and leaves it as it was', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-duck-garbage-'));
    const file = path.join(home, 'warehouse.duckdb');
    const garbage = Buffer.from('not a database '.repeat(400));
    await writeFile(file, garbage);
    const warehouse = new DuckDbWarehouse({ path: file, lakeRoot: home, mutex: new Mutex() });
    try {
      await expect(warehouse.query('select 1')).rejects.toThrow(
        `IO Error: The file "${file}" exists, but it is not a valid DuckDB database file!`,
      );
      expect(await readFile(file)).toEqual(garbage);
    } finally {
      await warehouse.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
