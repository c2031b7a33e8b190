import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AthenaReader } from '../../../../infra/adapters/aws/athena-reader.js';
import { RetryableError } from '../../../../shared/errors.js';
import { QueryRefusedError } from '../../../../shared/ports/warehouse-reader.js';

/**
 * The Athena reader's side of what moto's Athena cannot play (it never fails a query nor pages a
 * result): Athena's answers scripted as the API gives them. The happy path against moto is
 * test/infra/local/cli/sql-lake-aws.test.ts.
 */
const athena = mockClient(AthenaClient);

describe('Adapter: AthenaReader', () => {
  let now: number;
  let slept: number[];
  const reader = (timeoutMs = 10_000) =>
    new AthenaReader({
      client: new AthenaClient({ region: 'us-east-1' }),
      target: { workgroup: 'chartflow-dev-lake', database: 'chartflow_dev' },
      clock: {
        now: () => new Date(now),
        sleep: async (ms) => {
          slept.push(ms);
          now += ms;
        },
      },
      polling: { firstDelayMs: 100, maxDelayMs: 400, timeoutMs },
      label: 'Athena chartflow-dev-lake/chartflow_dev',
    });
  const states = (...list: string[]) => {
    const chain = athena.on(GetQueryExecutionCommand);
    let call = chain;
    for (const state of list) {
      call = call.resolvesOnce({
        QueryExecution: {
          StatementType: 'DML',
          Status: {
            State: state as never,
            ...(state === 'FAILED' ? { StateChangeReason: "line 1:8: Column 'x' cannot be resolved" } : {}),
          },
        },
      });
    }
  };

  beforeEach(() => {
    athena.reset();
    now = 0;
    slept = [];
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  });
  afterAll(() => athena.restore());

  it('waits for the query with growing pauses, then reads every page, the header row dropped once', async () => {
    states('QUEUED', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED');
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        NextToken: 'page-2',
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'day', Type: 'varchar' },
              { Name: 'entries', Type: 'bigint' },
            ],
          },
          Rows: [
            { Data: [{ VarCharValue: 'day' }, { VarCharValue: 'entries' }] },
            { Data: [{ VarCharValue: '2026-11-01' }, { VarCharValue: '200' }] },
          ],
        },
      })
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'day', Type: 'varchar' },
              { Name: 'entries', Type: 'bigint' },
            ],
          },
          Rows: [{ Data: [{ VarCharValue: '2026-11-02' }, {}] }],
        },
      });
    const result = await reader().read('select "date" as day, count(*) as entries from chart_songs');
    expect(result).toEqual({
      columns: [
        { name: 'day', type: 'varchar' },
        { name: 'entries', type: 'bigint' },
      ],
      rows: [
        ['2026-11-01', 200],
        ['2026-11-02', null],
      ],
    });
    expect(slept).toEqual([100, 200, 400, 400]);
    expect(athena.commandCalls(GetQueryResultsCommand)[1]!.args[0].input).toMatchObject({
      NextToken: 'page-2',
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryString: 'select "date" as day, count(*) as entries from chart_songs',
      WorkGroup: 'chartflow-dev-lake',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'chartflow_dev' },
    });
  });

  it('refuses a query Athena failed with Athena’s own reason', async () => {
    states('RUNNING', 'FAILED');
    const failed = reader().read('select x from chart_songs');
    await expect(failed).rejects.toBeInstanceOf(QueryRefusedError);
    await expect(failed).rejects.toThrow("line 1:8: Column 'x' cannot be resolved");
  });

  it('stops a query that outlives the timeout, and says it may be tried again', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const late = reader(1_000).read('select 1');
    await expect(late).rejects.toBeInstanceOf(RetryableError);
    await expect(late).rejects.toThrow(/q-1 still RUNNING after 1000 ms; stopped/);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryExecutionId: 'q-1',
    });
    expect(slept.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  it('binds :name parameters as Athena’s positional literals, one for each place a name is used', async () => {
    states('SUCCEEDED');
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [{ Data: [] }] } });
    await reader().read(
      'select * from chart_songs where chart = :chart and track_id in (:track, :track) and position < :top and :flag',
      {
        chart: "it's",
        track: 'abc',
        top: 10,
        flag: true,
      },
    );
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toMatchObject({
      QueryString: 'select * from chart_songs where chart = ? and track_id in (?, ?) and position < ? and ?',
      ExecutionParameters: ["'it''s'", "'abc'", "'abc'", '10', 'true'],
    });
  });

  it('keeps a statement’s first row when it is not a query’s header (a DDL answer)', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { StatementType: 'DDL', Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'tab_name', Type: 'string' }] },
        Rows: [{ Data: [{ VarCharValue: 'chart_songs' }] }],
      },
    });
    expect((await reader().read('show tables')).rows).toEqual([['chart_songs']]);
  });

  it('refuses an answer of the wrong shape, naming the call', async () => {
    athena.on(StartQueryExecutionCommand).resolves({});
    await expect(reader().read('select 1')).rejects.toThrow(/Athena StartQueryExecution: .*QueryExecutionId/);
  });
});
