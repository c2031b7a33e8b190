import { describe, expect, it } from 'vitest';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import {
  dbtContainerName,
  parseTransformStopped,
  transformEnvironment,
} from '../../../shared/events/ecs-task-event.js';
import { imagePullFailure } from '../../../shared/events/image-pull-failure.js';

const batchId = '20261207T063000000Z-0000beef';
const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/chartflow-prod-dbt:none';
const pullError = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${image}: ${image}: not found`;

/** The stop of a dbt task that never started, as ECS sends it when the image's tag is not in ECR. */
const notPulled = (detail: Record<string, unknown> = {}) =>
  toEnvelope(
    {
      source: 'aws.ecs',
      detailType: 'ECS Task State Change',
      detail: {
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/chartflow-prod/0123456789abcdef',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/chartflow-prod-dbt:7',
        lastStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
        stoppedReason: pullError,
        containers: [{ name: dbtContainerName, image, lastStatus: 'STOPPED', reason: pullError }],
        overrides: {
          containerOverrides: [{ name: dbtContainerName, environment: transformEnvironment({ batchId }) }],
        },
        ...detail,
      },
    },
    { id: 'e1', time: new Date('2026-12-07T06:31:00.000Z'), region: 'eu-west-1', account: '123456789012' },
  );

describe('A dbt task whose image could not be pulled (the run record’s reason)', () => {
  it('says the image is missing from ECR and the command that pushes it for this stage and region', () => {
    expect(parseTransformStopped(notPulled())).toMatchObject({
      batchId,
      succeeded: false,
      message: `the dbt image ${image} is missing from ECR, or could not be pulled: push it with \`npm run deploy -- --stage prod --region eu-west-1\`, which builds the image, tags it with the commit and points the task at it (docs/aws.md, "npm run deploy"). ECS said: ${pullError}`,
    });
  });

  it('says so from the task’s stopped reason alone, and names no stage it cannot tell', () => {
    const stop = notPulled({
      taskDefinitionArn: undefined,
      containers: [{ name: dbtContainerName, lastStatus: 'STOPPED' }],
    });
    expect(parseTransformStopped(stop)?.message).toBe(
      `the dbt image of the task is missing from ECR, or could not be pulled: push it with \`npm run deploy -- --stage <stage> --region <region>\`, which builds the image, tags it with the commit and points the task at it (docs/aws.md, "npm run deploy"). ECS said: ${pullError}`,
    );
  });

  it('leaves every other failure in its own words', () => {
    const network = 'ResourceInitializationError: unable to pull secrets or registry auth';
    const stop = notPulled({
      stoppedReason: network,
      containers: [{ name: dbtContainerName, image, lastStatus: 'STOPPED', reason: network }],
    });
    expect(parseTransformStopped(stop)?.message).toBe(network);
    const failedBuild = notPulled({
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: dbtContainerName, image, exitCode: 1 }],
    });
    expect(parseTransformStopped(failedBuild)?.message).toBe('dbt exited with code 1; its log says why');
  });

  it('names the dbt container’s image, not that of another container of the task', () => {
    const stop = notPulled({
      containers: [
        { name: 'log-router', image: 'fluent-bit:3', lastStatus: 'STOPPED' },
        { name: dbtContainerName, image, lastStatus: 'STOPPED', reason: pullError },
      ],
    });
    expect(parseTransformStopped(stop)?.message).toMatch(new RegExp(`^the dbt image ${image} is missing`));
  });

  it('says so from the stopped reason of a task whose dbt container is not in the event', () => {
    const stop = notPulled({
      containers: [{ name: 'log-router', image: 'fluent-bit:3', lastStatus: 'STOPPED' }],
    });
    expect(parseTransformStopped(stop)?.message).toMatch(
      /^the dbt image of the task is missing from ECR, or could not be pulled: push it with `npm run deploy -- --stage prod --region eu-west-1`/,
    );
  });

  it('names no stage for the task definition of a stack chartflow did not name, and still its region', () => {
    const stop = notPulled({
      taskDefinitionArn: 'arn:aws:ecs:us-east-2:123456789012:task-definition/analytics-dbt:3',
    });
    expect(parseTransformStopped(stop)?.message).toContain(
      'push it with `npm run deploy -- --stage <stage> --region us-east-2`',
    );
  });
});

describe('Function: imagePullFailure', () => {
  it('tells nothing of an event it cannot read as a task stop', () => {
    expect(imagePullFailure(undefined, dbtContainerName)).toBeUndefined();
    expect(imagePullFailure({ detail: { stoppedReason: pullError } }, dbtContainerName)).toBeUndefined();
  });

  it('leaves a task stop with an image not given as text to the other reasons of the stop', () => {
    const stop = notPulled({
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: dbtContainerName, image: 7, exitCode: 2 }],
    });
    expect(imagePullFailure(stop, dbtContainerName)).toBeUndefined();
    expect(parseTransformStopped(stop)?.message).toBe('dbt exited with code 2; its log says why');
  });
});
