import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetQueryExecutionCommand,
  ListQueryExecutionsCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { cliOnMoto } from '../../../support/cli-context.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

/**
 * `chartflow sql --lake --target aws`: the stack's lake database, workgroup and analyst role from
 * its outputs (moto's CloudFormation), the role assumed with STS, the query run by Athena in that
 * workgroup (moto's Athena, which answers what the test gives it: Athena itself cannot run here).
 */
const available = motoAvailable();

describe.skipIf(!available)('Function: chartflow sql --lake --target aws (moto)', () => {
  let moto: Moto;
  let root: string;
  let out: string[];
  let notes: string[];
  let athena: AthenaClient;

  const context = (): CliContext => cliOnMoto(path.join(root, 'home'), moto.clientConfig, { out, notes });
  const chartflow = (args: string[]) =>
    main(
      ['node', 'chartflow', 'sql', '--lake', ...args, '--target', 'aws', '--region', 'us-east-1'],
      context(),
    );

  /** Queues the answer moto's Athena gives to the next query: a header row, then the rows. */
  const answerNext = async (columns: { Name: string; Type: string }[], rows: (string | null)[][]) => {
    const toRow = (values: (string | null)[]) => ({
      Data: values.map((v) => (v === null ? {} : { VarCharValue: v })),
    });
    const response = await fetch(`${moto.endpoint}/moto-api/static/athena/query-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        region: 'us-east-1',
        results: [{ rows: [toRow(columns.map((c) => c.Name)), ...rows.map(toRow)], column_info: columns }],
      }),
    });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    moto = await startMoto();
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-sql-lake-aws-'));
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-dev',
        TemplateBody: JSON.stringify({
          Resources: {
            Lake: { Type: 'AWS::S3::Bucket' },
            Analyst: {
              Type: 'AWS::IAM::Role',
              Properties: {
                RoleName: 'chartflow-dev-lake-analyst',
                AssumeRolePolicyDocument: {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
                      Action: 'sts:AssumeRole',
                    },
                  ],
                },
              },
            },
          },
          Outputs: {
            LakeBucketName: { Value: { Ref: 'Lake' } },
            LakeDatabaseName: { Value: 'chartflow_dev' },
            LakeWorkgroupName: { Value: 'chartflow-dev-lake' },
            LakeAnalystRoleArn: { Value: { 'Fn::GetAtt': ['Analyst', 'Arn'] } },
          },
        }),
      }),
    );
    cloudFormation.destroy();
    athena = new AthenaClient(moto.clientConfig);
    await athena.send(
      new CreateWorkGroupCommand({
        Name: 'chartflow-dev-lake',
        Configuration: { ResultConfiguration: { OutputLocation: 's3://chartflow-dev-lake/athena-results/' } },
      }),
    );
  });
  afterAll(async () => {
    athena?.destroy();
    await moto?.stop();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    out = [];
    notes = [];
  });

  it('runs the query in the stack’s workgroup and lake database, and prints Athena’s rows with their types', async () => {
    const query =
      "select status, count(*) as runs, false as failed from run_records where chart = 'global' group by status";
    await answerNext(
      [
        { Name: 'status', Type: 'varchar' },
        { Name: 'runs', Type: 'bigint' },
        { Name: 'failed', Type: 'boolean' },
      ],
      [
        ['succeeded', '13', 'false'],
        ['checks_failed', '1', null],
      ],
    );
    expect(await chartflow([query, '--format', 'json'])).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual([
      { status: 'succeeded', runs: 13, failed: false },
      { status: 'checks_failed', runs: 1, failed: null },
    ]);
    const listed = await athena.send(new ListQueryExecutionsCommand({ WorkGroup: 'chartflow-dev-lake' }));
    const executions = await Promise.all(
      (listed.QueryExecutionIds ?? []).map((id) =>
        athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      ),
    );
    const ran = executions.map((e) => e.QueryExecution!).find((e) => e.Query === query);
    expect(ran?.QueryExecutionContext).toMatchObject({ Database: 'chartflow_dev' });
  });

  it('takes the stack’s analyst role to run it, whoever runs the command', async () => {
    await answerNext([{ Name: 'n', Type: 'integer' }], [['1']]);
    expect(await chartflow(["select 1 as n from chart_songs where chart = 'global' limit 1"])).toBe(0);
    const state = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as {
      sts?: { AssumedRole?: { role_arn?: string; session_name?: string }[] };
    };
    const sessions = state.sts?.AssumedRole ?? [];
    expect(sessions.map((s) => s.role_arn)).toContain(
      'arn:aws:iam::123456789012:role/chartflow-dev-lake-analyst',
    );
    expect(sessions.every((s) => s.session_name?.startsWith('chartflow-sql-'))).toBe(true);
  });

  it('says which stack output is missing when the stack has no lake catalog yet', async () => {
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-old',
        TemplateBody: JSON.stringify({
          Resources: { Lake: { Type: 'AWS::S3::Bucket' } },
          Outputs: { LakeBucketName: { Value: { Ref: 'Lake' } } },
        }),
      }),
    );
    cloudFormation.destroy();
    const code = await main(
      [
        'node',
        'chartflow',
        'sql',
        '--lake',
        'select 1',
        '--target',
        'aws',
        '--stage',
        'old',
        '--region',
        'us-east-1',
      ],
      context(),
    );
    expect(code).not.toBe(0);
    expect(notes.join('\n')).toMatch(/LakeDatabaseName/);
  });
});
