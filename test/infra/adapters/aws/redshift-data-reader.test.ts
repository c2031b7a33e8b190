import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { RedshiftDataApi } from '../../../../infra/adapters/aws/redshift-data-api.js';
import { RedshiftDataReader } from '../../../../infra/adapters/aws/redshift-data-reader.js';
import { QueryRefusedError } from '../../../../shared/ports/warehouse-reader.js';
import { manualClock } from '../../../shared/http/manual-clock.js';

// Redshift cannot run here: the Data API's answers are scripted as it gives them (docs/testing.md).
const redshift = mockClient(RedshiftDataClient);
const client = new RedshiftDataClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

const make = () =>
  new RedshiftDataReader(
    new RedshiftDataApi({
      client,
      target: { workgroupName: 'chartflow-dev', database: 'chartflow' },
      clock: manualClock(),
      polling: { firstDelayMs: 1, maxDelayMs: 1, timeoutMs: 1_000 },
    }),
    'Redshift chartflow-dev/chartflow',
  );

/** ExecuteStatement answers: the BEGIN opens session s1, then each statement gets the next id. */
const scriptSession = (queryStatus: 'FINISHED' | 'FAILED') => {
  redshift
    .on(ExecuteStatementCommand)
    .resolvesOnce({ Id: 'begin', SessionId: 's1' })
    .resolvesOnce({ Id: 'query', SessionId: 's1' })
    .resolvesOnce({ Id: 'rollback', SessionId: 's1' });
  redshift.on(DescribeStatementCommand, { Id: 'begin' }).resolves({ Id: 'begin', Status: 'FINISHED' });
  redshift.on(DescribeStatementCommand, { Id: 'rollback' }).resolves({ Id: 'rollback', Status: 'FINISHED' });
  redshift.on(DescribeStatementCommand, { Id: 'query' }).resolves(
    queryStatus === 'FINISHED'
      ? { Id: 'query', Status: 'FINISHED', HasResultSet: true }
      : {
          Id: 'query',
          Status: 'FAILED',
          Error: 'ERROR: cannot execute DELETE in a read-only transaction',
        },
  );
};

describe('Class: RedshiftDataReader', () => {
  afterEach(() => redshift.reset());

  it('runs the query alone in a read-only transaction of a Data API session, and rolls it back', async () => {
    scriptSession('FINISHED');
    redshift.on(GetStatementResultCommand, { Id: 'query' }).resolves({
      ColumnMetadata: [
        { name: 'position', label: 'position', typeName: 'int4' },
        { name: 'chart_date', label: 'chart_date', typeName: 'date' },
        { name: 'popularity', label: 'popularity', typeName: 'numeric' },
      ],
      Records: [[{ longValue: 1 }, { stringValue: '2026-12-01' }, { stringValue: '71.5' }]],
    });
    const result = await make().read('select position, chart_date, popularity from marts.x');
    expect(result).toEqual({
      columns: [
        { name: 'position', type: 'int4' },
        { name: 'chart_date', type: 'date' },
        { name: 'popularity', type: 'numeric' },
      ],
      rows: [[1, '2026-12-01', 71.5]],
    });
    const sent = redshift.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      {
        WorkgroupName: 'chartflow-dev',
        Database: 'chartflow',
        SessionKeepAliveSeconds: 60,
        Sql: 'begin transaction read only',
      },
      { SessionId: 's1', Sql: 'select position, chart_date, popularity from marts.x' },
      { SessionId: 's1', Sql: 'rollback' },
    ]);
  });

  it("refuses what Redshift refuses with Redshift's words, and still rolls back", async () => {
    scriptSession('FAILED');
    const read = make().read('delete from marts.dim_tracks');
    await expect(read).rejects.toBeInstanceOf(QueryRefusedError);
    await expect(read).rejects.toThrow(/cannot execute DELETE in a read-only transaction/);
    const sent = redshift.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql);
    expect(sent).toEqual(['begin transaction read only', 'delete from marts.dim_tracks', 'rollback']);
  });
});
