import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartflowChild, expectRefusal } from '../../../support/chartflow-child.js';
import { createTestDatabase, postgresAvailable } from '../../../support/services.js';

/**
 * `chartflow sql` as a user runs it (a child process), against a real DuckDB file and a real
 * PostgreSQL database holding a small `marts.fct_chart_entries`.
 */
const schema = [
  'create schema marts',
  'create table marts.fct_chart_entries (chart_date date, position integer, track_name varchar, streams bigint, danceability decimal(6,3))',
  `insert into marts.fct_chart_entries values
     ('2026-12-01', 1, 'Highway of Gravity', 1200345, 0.812),
     ('2026-12-01', 2, 'Comma, "quoted"', 998000, null),
     ('2026-12-02', 1, 'Highway of Gravity', 1250000, 0.812)`,
];

const topQuery =
  'select position, track_name, streams, danceability from marts.fct_chart_entries ' +
  "where chart_date = date '2026-12-01' order by position";

const warehouses = [
  {
    name: 'DuckDB',
    setUp: async (home: string) => {
      await mkdir(home, { recursive: true });
      const instance = await DuckDBInstance.create(path.join(home, 'warehouse.duckdb'));
      const connection = await instance.connect();
      for (const statement of schema) await connection.run(statement);
      connection.closeSync();
      instance.closeSync();
      return { env: { CHARTFLOW_WAREHOUSE: 'duckdb' }, drop: async () => undefined };
    },
    refusedWrite: /Cannot execute statement of type "DELETE".*read-only mode\.$/,
    badQuery:
      /^chartflow: Parser Error: syntax error at or near "selec" LINE 1: selec position from marts\.fct_chart_entries\.$/,
  },
  {
    name: 'PostgreSQL',
    setUp: async () => {
      if (!(await postgresAvailable())) return undefined;
      const database = await createTestDatabase('sql');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      for (const statement of schema) await client.query(statement);
      await client.end();
      return {
        env: { CHARTFLOW_WAREHOUSE: 'postgres', CHARTFLOW_PG_URL: database.url },
        drop: database.drop,
      };
    },
    refusedWrite: /Cannot execute DELETE in a read-only transaction\.$/,
    badQuery: /^chartflow: Syntax error at or near "selec"\.$/,
  },
] as const;

describe.each(warehouses)('Command: chartflow sql on $name', ({ name, setUp, refusedWrite, badQuery }) => {
  let root: string;
  let home: string;
  let warehouse: Awaited<ReturnType<typeof setUp>>;
  const sql = (args: string[], input?: string) =>
    chartflowChild(home, ['sql', ...args], warehouse!.env, input);

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-sql-'));
    home = path.join(root, 'home');
    warehouse = await setUp(home);
  });
  afterAll(async () => {
    await warehouse?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('prints a table: aligned columns, numbers to the right, NULL shown, the row count', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql([topQuery]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        'position │ track_name         │ streams │ danceability',
        '─────────┼────────────────────┼─────────┼─────────────',
        '       1 │ Highway of Gravity │ 1200345 │        0.812',
        '       2 │ Comma, "quoted"    │  998000 │         NULL',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });

  it('prints CSV with a header, quoting what needs it, NULL as an empty field', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql(['--format', 'csv', topQuery]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      'position,track_name,streams,danceability\n1,Highway of Gravity,1200345,0.812\n2,"Comma, ""quoted""",998000,\n',
    );
  });

  it('prints JSON with plain values: numbers, dates as YYYY-MM-DD, null', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql([
      '--format',
      'json',
      'select chart_date, position, streams, danceability from marts.fct_chart_entries order by chart_date, position',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { chart_date: '2026-12-01', position: 1, streams: 1200345, danceability: 0.812 },
      { chart_date: '2026-12-01', position: 2, streams: 998000, danceability: null },
      { chart_date: '2026-12-02', position: 1, streams: 1250000, danceability: 0.812 },
    ]);
  });

  it('reads the query from standard input when none is given', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql(['--format', 'csv'], 'select count(*) as entries\nfrom marts.fct_chart_entries;\n');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('entries\n3\n');
  });

  it('refuses a write with the warehouse’s own words, and changes nothing', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql(['delete from marts.fct_chart_entries']);
    expectRefusal(run, 1, refusedWrite);
    const count = await sql(['--format', 'csv', 'select count(*) as n from marts.fct_chart_entries']);
    expect(count.stdout).toBe('n\n3\n');
  });

  it('refuses a second statement behind a harmless first one, and changes nothing', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    const run = await sql(['select 1; drop table marts.fct_chart_entries']);
    expectRefusal(run, 1, /statement/i);
    const count = await sql(['--format', 'csv', 'select count(*) as n from marts.fct_chart_entries']);
    expect(count.stdout).toBe('n\n3\n');
  });

  it('gives a bad query the warehouse’s message on one line, exit code 1', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    expectRefusal(await sql(['selec position from marts.fct_chart_entries']), 1, badQuery);
  });

  it('refuses a format it does not know, and no query at all', async (context) => {
    if (!warehouse) return context.skip(`no ${name}`);
    expectRefusal(await sql(['--format', 'xml', 'select 1']), 2, /--format: must be table, csv or json/);
    expectRefusal(await sql([]), 2, /The query is empty/);
  });
});

describe('Command: chartflow sql on DuckDB, when there is nothing to read or the file is busy', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-sql-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('says there is no warehouse yet, and creates none', async () => {
    const home = path.join(root, 'empty');
    const run = await chartflowChild(home, ['sql', 'select 1'], { CHARTFLOW_WAREHOUSE: 'duckdb' });
    expectRefusal(run, 2, /There is no warehouse at .*warehouse\.duckdb yet: `chartflow run` makes one/);
  });

  it('says another process is writing the file, rather than DuckDB’s lock error alone', async () => {
    const home = path.join(root, 'busy');
    await mkdir(home, { recursive: true });
    const writer = await DuckDBInstance.create(path.join(home, 'warehouse.duckdb'));
    try {
      const run = await chartflowChild(home, ['sql', 'select 1'], { CHARTFLOW_WAREHOUSE: 'duckdb' });
      expectRefusal(run, 1, /is open for writing in another process .*try again when it ends/);
    } finally {
      writer.closeSync();
    }
  });
});
