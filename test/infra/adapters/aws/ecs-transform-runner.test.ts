import {
  AccessDeniedException,
  ClientException,
  ECSClient,
  RunTaskCommand,
  ServerException,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EcsTransformRunner,
  transformClientToken,
} from '../../../../infra/adapters/aws/ecs-transform-runner.js';
import {
  ConfigError,
  InvalidRecordError,
  PermanentError,
  RetryableError,
} from '../../../../shared/errors.js';
import { parseTransformStopped } from '../../../../shared/events/ecs-task-event.js';

const ecs = mockClient(ECSClient);
const client = new ECSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/chartflow-dev/0123456789abcdef0123456789abcdef';
const batch = '20261121T060000000Z-9f2c4a1b';

const runner = () =>
  new EcsTransformRunner({
    client,
    cluster: 'chartflow-dev',
    taskDefinition: 'chartflow-dev-dbt:3',
    subnets: ['subnet-aaa', 'subnet-bbb'],
    securityGroups: ['sg-dbt'],
  });

const sent = () => ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input);

beforeEach(() => {
  ecs.reset();
});

describe('Class: EcsTransformRunner', () => {
  it('runs the dbt task on Fargate in the private subnets, the batch in its environment, and returns the task ARN', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn, lastStatus: 'PROVISIONING' }], failures: [] });

    expect(await runner().start({ batchId: batch })).toEqual({ taskId: taskArn });

    expect(sent()).toEqual([
      {
        cluster: 'chartflow-dev',
        taskDefinition: 'chartflow-dev-dbt:3',
        launchType: 'FARGATE',
        count: 1,
        startedBy: 'chartflow',
        clientToken: transformClientToken(batch),
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ['subnet-aaa', 'subnet-bbb'],
            securityGroups: ['sg-dbt'],
            assignPublicIp: 'DISABLED',
          },
        },
        overrides: {
          containerOverrides: [{ name: 'dbt', environment: [{ name: 'CHARTFLOW_BATCH_ID', value: batch }] }],
        },
      },
    ]);
  });

  /** What ECS sends to EventBridge when the task stops: its overrides echoed, its containers' exits. */
  const stoppedEvent = (detail: { overrides: unknown; containers: object[]; stoppedReason?: string }) => ({
    version: '0',
    id: 'e1',
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '123456789012',
    time: '2026-11-21T07:00:00Z',
    region: 'eu-west-1',
    resources: [taskArn],
    detail: { taskArn, lastStatus: 'STOPPED', ...detail },
  });

  it('sends the overrides the stop event is read back from', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    await runner().start({ batchId: batch });
    const { overrides } = sent()[0]!;
    const stopped = parseTransformStopped(
      stoppedEvent({ overrides, containers: [{ name: 'dbt', exitCode: 0 }] }),
    );
    expect(stopped).toEqual({ batchId: batch, taskId: taskArn, succeeded: true });
  });

  it('says why a build failed on Fargate, where a container that exits brings no reason', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    await runner().start({ batchId: batch });
    const { overrides } = sent()[0]!;
    const stop = (containers: object[], stoppedReason = 'Essential container in task exited') =>
      parseTransformStopped(stoppedEvent({ overrides, containers, stoppedReason }));
    expect(stop([{ name: 'dbt', exitCode: 1 }])).toEqual({
      batchId: batch,
      taskId: taskArn,
      succeeded: false,
      message: 'dbt exited with code 1; its log says why',
    });
    expect(stop([{ name: 'dbt', exitCode: 124 }])?.message).toBe(
      'dbt was stopped by its time limit (exit code 124); its log says where it was',
    );
    // It never started: the container's reason, and no exit code; an image it could not pull says
    // how to push it (shared/events/image-pull-failure.ts).
    expect(
      stop(
        [{ name: 'dbt', reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' }],
        'Task failed to start',
      )?.message,
    ).toMatch(
      /^the dbt image of the task is missing from ECR, or could not be pulled: push it with `npm run deploy -- --stage .*ECS said: CannotPullContainerError: pull image manifest has been retried 5 time\(s\)$/,
    );
    expect(stop([{ name: 'dbt' }], 'Task stopped by user')?.message).toBe('Task stopped by user');
  });

  it('derives the client token from the batch: the same batch, the same token; within ECS’s 64 characters 33–126', async () => {
    const long = `${'a'.repeat(69)}-0123456789`; // 80 characters, the longest batch id
    for (const id of [batch, long]) {
      const token = transformClientToken(id);
      expect(token).toHaveLength(64);
      expect([...token].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126)).toBe(true);
    }
    expect(transformClientToken(batch)).not.toBe(transformClientToken('20261121T060000000Z-9f2c4a1c'));

    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    await runner().start({ batchId: batch });
    await runner().start({ batchId: batch });
    await runner().start({ batchId: long });
    const tokens = sent().map((input) => input.clientToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('makes a placement failure retryable, naming the resource, the reason and the detail', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [
        {
          arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/chartflow-dev',
          reason: 'RESOURCE:ENI',
          detail: 'no free IP in subnet-aaa',
        },
        {
          reason:
            'Capacity is unavailable at this time. Please try again later or in a different availability zone',
        },
      ],
    });
    const failure = await runner()
      .start({ batchId: batch })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryableError);
    expect((failure as Error).message).toBe(
      `ECS RunTask chartflow-dev-dbt:3 on chartflow-dev for batch ${batch} started no task: ` +
        'arn:aws:ecs:eu-west-1:123456789012:cluster/chartflow-dev: RESOURCE:ENI (no free IP in subnet-aaa); ' +
        '(no resource): Capacity is unavailable at this time. Please try again later or in a different availability zone',
    );
  });

  it('refuses an answer with neither a task nor a failure', async () => {
    ecs.on(RunTaskCommand).resolves({});
    const failure = await runner()
      .start({ batchId: batch })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InvalidRecordError);
    expect((failure as Error).message).toMatch(/for batch .* ECS answered with neither a task nor a failure/);
  });

  it.each([
    [
      'AccessDenied',
      false,
      () =>
        new AccessDeniedException({
          $metadata: { httpStatusCode: 400 },
          message: 'not authorized to perform ecs:RunTask',
        }),
    ],
    [
      'ClientException',
      false,
      () =>
        new ClientException({ $metadata: { httpStatusCode: 400 }, message: 'TaskDefinition is inactive' }),
    ],
    [
      'ServerException',
      true,
      () => new ServerException({ $metadata: { httpStatusCode: 500 }, message: 'Service error' }),
    ],
    [
      'ThrottlingException',
      true,
      () =>
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
    ],
  ] as const)('classes %s from the API (retryable: %s)', async (name, retryable, error) => {
    ecs.on(RunTaskCommand).rejects(error());
    const failure = await runner()
      .start({ batchId: batch })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(retryable ? RetryableError : PermanentError);
    if (!retryable) expect(failure).not.toBeInstanceOf(RetryableError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^ECS RunTask chartflow-dev-dbt:3 on chartflow-dev for batch ${batch} failed: ${name}`),
    );
  });

  it('refuses a batch id that is not one, before calling ECS', async () => {
    await expect(runner().start({ batchId: 'x y' })).rejects.toThrow(
      /transform request: batchId: .*not a run id/,
    );
    expect(sent()).toEqual([]);
  });

  it('refuses options without a subnet or a security group', () => {
    expect(
      () =>
        new EcsTransformRunner({
          client,
          cluster: 'c',
          taskDefinition: 't',
          subnets: [],
          securityGroups: ['sg-1'],
        }),
    ).toThrow(ConfigError);
    expect(
      () =>
        new EcsTransformRunner({
          client,
          cluster: 'c',
          taskDefinition: 't',
          subnets: ['s'],
          securityGroups: [],
        }),
    ).toThrow(/^EcsTransformRunner options: ✖ at least one security group is required → at securityGroups$/);
  });
});
