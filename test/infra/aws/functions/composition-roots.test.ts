import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { awsFunctionEnv } from '../../../../infra/aws/functions/environment.js';
import { stageCleanupDeps } from '../../../../infra/aws/functions/stage-cleanup.js';
import { warehouseStatementTimeoutMs } from '../../../../infra/aws/functions/warehouse.js';
import {
  awsWarehouseSetup,
  warehouseSetupStatementTimeoutMs,
} from '../../../../infra/aws/functions/warehouse-setup.js';
import { parseAwsConfig } from '../../../../shared/config/aws-config.js';
import { RetryableError } from '../../../../shared/errors.js';
import { lambdaEnvironment } from '../../../support/aws-environment.js';
import { manualClock } from '../../../shared/http/manual-clock.js';

const redshift = mockClient(RedshiftDataClient);
const clientConfig = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

beforeEach(() => {
  redshift.reset();
  // Every statement stays under way, however long it is waited for.
  redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
  redshift.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
  redshift
    .on(DescribeStatementCommand)
    .callsFake((input: { Id: string }) => ({ Id: input.Id, Status: 'STARTED' }));
  redshift.on(CancelStatementCommand).resolves({ Status: true });
});
afterAll(() => redshift.restore());

/** How long the waits before the give-up came to, on the manual clock. */
const waited = (sleeps: readonly number[]) => sleeps.reduce((sum, ms) => sum + ms, 0);

describe('Function: stageCleanupDeps', () => {
  it('gives up on a warehouse statement, and cancels it, after warehouseStatementTimeoutMs', async () => {
    const clock = manualClock();
    const deps = stageCleanupDeps(
      awsFunctionEnv({ config: parseAwsConfig(lambdaEnvironment()), clientConfig, clock }),
    );
    const slice = { runId: '20261121T060000000Z-9f2c4a1b', chartId: 'global', chartDate: '2026-11-20' };
    const error = await deps.warehouse.cleanStage([slice]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(
      `still STARTED after ${warehouseStatementTimeoutMs} ms; cancelled`,
    );
    expect(waited(clock.sleeps)).toBe(warehouseStatementTimeoutMs);
    expect(redshift.commandCalls(CancelStatementCommand)).toHaveLength(1);
  });
});

describe('Function: awsWarehouseSetup', () => {
  it('signs in with the admin secret and gives up on a statement after warehouseSetupStatementTimeoutMs', async () => {
    const clock = manualClock();
    const adminSecretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chartflow-dev/warehouse-admin-AbCdEf';
    const setup = awsWarehouseSetup(
      { workgroupName: 'chartflow-dev', database: 'chartflow', adminSecretArn },
      clientConfig,
      clock,
    );
    const error = await setup
      .preparePipelineUser({ pipelineRole: 'chartflow-dev-warehouse', schemas: ['stage'] })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(`after ${warehouseSetupStatementTimeoutMs} ms; cancelled`);
    expect(waited(clock.sleeps)).toBe(warehouseSetupStatementTimeoutMs);
    expect(redshift.commandCalls(ExecuteStatementCommand)[0]!.args[0].input.SecretArn).toBe(adminSecretArn);
  });
});
