import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type ExecuteStatementCommandInput,
} from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import { RunRecords } from '../../../../shared/lake/run-records.js';
import { cliOnMoto } from '../../../support/cli-context.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

/**
 * `chartflow sql` and `chartflow report` with `--target aws`: the stack's outputs and its lake from
 * moto, Redshift's Data API scripted as it answers (Redshift cannot run here). What is checked is
 * the plumbing: the workgroup and database the stack names, the read-only session, the lake's run
 * records in the report.
 */
const available = motoAvailable();
const redshift = mockClient(RedshiftDataClient);

describe.skipIf(!available)(
  'Function: chartflow sql and report --target aws (moto, Data API scripted)',
  () => {
    let moto: Moto;
    let root: string;
    let out: string[];
    let notes: string[];
    /** The SQL of each statement the Data API was asked to run, by its id. */
    let statements: Map<string, string>;

    const context = (): CliContext => cliOnMoto(path.join(root, 'home'), moto.clientConfig, { out, notes });
    const chartflow = (args: string[]) =>
      main(['node', 'chartflow', ...args, '--target', 'aws', '--region', 'us-east-1'], context());

    beforeAll(async () => {
      moto = await startMoto();
      root = await mkdtemp(path.join(tmpdir(), 'chartflow-read-aws-'));
      const cloudFormation = new CloudFormationClient(moto.clientConfig);
      await cloudFormation.send(
        new CreateStackCommand({
          StackName: 'chartflow-dev',
          TemplateBody: JSON.stringify({
            Resources: { Lake: { Type: 'AWS::S3::Bucket' } },
            Outputs: {
              LakeBucketName: { Value: { Ref: 'Lake' } },
              WarehouseWorkgroupName: { Value: 'chartflow-dev' },
              WarehouseDatabaseName: { Value: 'chartflow' },
            },
          }),
        }),
      );
      const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'chartflow-dev' }));
      const bucket = described.Stacks![0]!.Outputs!.find(
        (o) => o.OutputKey === 'LakeBucketName',
      )!.OutputValue!;
      cloudFormation.destroy();
      const s3 = new S3Client(moto.clientConfig);
      await new RunRecords(new S3ObjectStore({ client: s3, bucket })).write({
        runId: '20261121T060000000Z-aaaa0001',
        loadId: '20261121T060000000Z-bbbb0001',
        chartId: 'global',
        chartDate: '2026-11-21',
        status: 'checks_failed',
        rows: { chart_songs: 200, song_attributes: 200, song_artists: 290 },
        checks: [{ name: 'positions_are_unique', passed: false, detail: 'position 7 appears twice' }],
        timings: { loadMs: 900 },
        updatedAt: '2026-11-21T06:10:00.000Z',
      });
      s3.destroy();
    });
    afterAll(async () => {
      redshift.restore();
      await moto?.stop();
      await rm(root, { recursive: true, force: true });
    });
    beforeEach(() => {
      out = [];
      notes = [];
      statements = new Map();
      redshift.reset();
      // Every statement runs at once; a query of information_schema finds no marts, and a query of
      // ours answers one row.
      redshift.on(ExecuteStatementCommand).callsFake((input: ExecuteStatementCommandInput) => {
        const id = `statement-${statements.size + 1}`;
        statements.set(id, input.Sql!);
        return { Id: id, SessionId: 'session-1' };
      });
      redshift.on(DescribeStatementCommand).callsFake(({ Id }: { Id: string }) => ({
        Id,
        Status: 'FINISHED',
        HasResultSet: !/^(begin|rollback)/.test(statements.get(Id)!),
      }));
      redshift.on(GetStatementResultCommand).callsFake(({ Id }: { Id: string }) =>
        statements.get(Id)!.includes('information_schema')
          ? { ColumnMetadata: [{ name: 'table_name', typeName: 'varchar' }], Records: [] }
          : {
              ColumnMetadata: [
                { name: 'position', typeName: 'int4' },
                { name: 'track_name', typeName: 'varchar' },
              ],
              Records: [[{ longValue: 1 }, { stringValue: 'Highway of Gravity' }]],
            },
      );
    });

    it('sql asks the workgroup the stack names, in a read-only session, and prints the answer', async () => {
      const code = await chartflow(['sql', '--format', 'csv', 'select position, track_name from marts.x']);
      expect(code, notes.join('\n')).toBe(0);
      expect(out).toEqual(['position,track_name\n1,Highway of Gravity']);
      const sent = redshift.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
      expect(sent[0]).toMatchObject({
        WorkgroupName: 'chartflow-dev',
        Database: 'chartflow',
        Sql: 'begin transaction read only',
      });
      expect(sent.slice(1).map((s) => [s.SessionId, s.Sql])).toEqual([
        ['session-1', 'select position, track_name from marts.x'],
        ['session-1', 'rollback'],
      ]);
    });

    it('report reads the marts through Redshift and the runs from the bucket, saying what is missing', async () => {
      const file = path.join(root, 'aws-report.html');
      const code = await chartflow(['report', '--to', '2026-11-21', '--out', file]);
      expect(code, notes.join('\n')).toBe(0);
      const html = await readFile(file, 'utf8');
      expect(html).toContain('Redshift chartflow-dev/chartflow (stack chartflow-dev, us-east-1)');
      expect(html).toContain('No data yet: the warehouse has no marts.fct_chart_entries');
      // The data-health section is the bucket's run record.
      expect(html).toContain('20261121T060000000Z-aaaa0001');
      expect(html).toContain('positions_are_unique');
      // Every query ran in a read-only transaction of its own, rolled back.
      const sqls = redshift.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql!);
      expect(sqls.filter((s) => s === 'begin transaction read only')).toHaveLength(sqls.length / 3);
      expect(sqls.filter((s) => s === 'rollback')).toHaveLength(sqls.length / 3);
    });
  },
);
