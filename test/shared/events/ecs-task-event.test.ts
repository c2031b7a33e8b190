import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../shared/errors.js';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import {
  dbtContainerName,
  ecsTaskStateChange,
  parseTransformStopped,
  transformEnvironment,
} from '../../../shared/events/ecs-task-event.js';

const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/chartflow/0123456789abcdef';
const batchId = '20250102T060000000Z-0000beef';

/** An ECS Task State Change as EventBridge delivers it; the detail as the local dbt runner writes it. */
const stateChange = (detail: Record<string, unknown>, detailType = ecsTaskStateChange) =>
  toEnvelope(
    {
      source: 'aws.ecs',
      detailType,
      detail: {
        taskArn,
        lastStatus: 'STOPPED',
        containers: [{ name: dbtContainerName, exitCode: 0 }],
        overrides: {
          containerOverrides: [{ name: dbtContainerName, environment: transformEnvironment({ batchId }) }],
        },
        ...detail,
      },
    },
    { id: 'e1', time: new Date('2025-01-02T06:30:00.000Z'), region: 'eu-west-1', account: '123456789012' },
  );

describe('Function: parseTransformStopped', () => {
  it("reads a dbt task's stop", () => {
    expect(parseTransformStopped(stateChange({}))).toEqual({ batchId, taskId: taskArn, succeeded: true });
  });

  it('ignores a state change that is not the stop', () => {
    expect(parseTransformStopped(stateChange({ lastStatus: 'RUNNING' }))).toBeUndefined();
  });

  it.each([
    [
      'an event of another type',
      stateChange({}, 'ECS Container Instance State Change'),
      /^ECS Task State Change event: ✖ Invalid input: expected "ECS Task State Change" → at \["detail-type"\]$/,
    ],
    [
      'a task without containers',
      stateChange({ containers: undefined }),
      /^ECS Task State Change event: ✖ Invalid input: expected array, received undefined → at detail\.containers$/,
    ],
    [
      'an envelope without its time',
      { ...stateChange({}), time: undefined },
      /^ECS Task State Change event: ✖ Invalid input: expected string, received undefined → at time$/,
    ],
    [
      'a task that is not a chartflow transform',
      stateChange({ overrides: { containerOverrides: [] } }),
      new RegExp(
        `^ECS task ${taskArn}: not a chartflow transform: ✖ Invalid input: expected string, received undefined → at CHARTFLOW_BATCH_ID$`,
      ),
    ],
  ])('refuses %s, naming what is wrong', (_, event, message) => {
    expect(() => parseTransformStopped(event)).toThrow(InvalidRecordError);
    expect(() => parseTransformStopped(event)).toThrow(message);
  });
});

describe('Function: parseTransformStopped, a failed dbt task', () => {
  const messageOf = (detail: Record<string, unknown>) => parseTransformStopped(stateChange(detail))?.message;

  it('gives the dbt container’s own reason first', () => {
    expect(
      parseTransformStopped(
        stateChange({
          stoppedReason: 'Essential container in task exited',
          containers: [
            { name: dbtContainerName, exitCode: 137, reason: 'OutOfMemoryError: Container killed' },
          ],
        }),
      ),
    ).toEqual({ batchId, taskId: taskArn, succeeded: false, message: 'OutOfMemoryError: Container killed' });
  });

  it('says dbt was stopped by its time limit when timeout ended it', () => {
    expect(messageOf({ containers: [{ name: dbtContainerName, exitCode: 124 }] })).toBe(
      'dbt was stopped by its time limit (exit code 124); its log says where it was',
    );
  });

  it('gives the exit code of a failed build, and the task’s stopped reason when the container has none', () => {
    expect(messageOf({ containers: [{ name: dbtContainerName, exitCode: 2 }] })).toBe(
      'dbt exited with code 2; its log says why',
    );
    expect(
      messageOf({ stoppedReason: 'Task stopped by user', containers: [{ name: dbtContainerName }] }),
    ).toBe('Task stopped by user');
    expect(messageOf({ containers: [{ name: dbtContainerName }] })).toBe('dbt stopped without an exit code');
  });

  it('reads a task whose dbt container is not in the event as failed, in its stopped reason', () => {
    expect(
      parseTransformStopped(
        stateChange({ stoppedReason: 'Timeout waiting for network interface provisioning', containers: [] }),
      ),
    ).toEqual({
      batchId,
      taskId: taskArn,
      succeeded: false,
      message: 'Timeout waiting for network interface provisioning',
    });
    expect(messageOf({ containers: [{ name: 'log-router', exitCode: 0 }] })).toBe(
      'dbt stopped without an exit code',
    );
  });

  it('judges the dbt container, not another container of the task', () => {
    expect(
      parseTransformStopped(
        stateChange({
          containers: [
            { name: 'log-router', exitCode: 0 },
            { name: dbtContainerName, exitCode: 1 },
          ],
        }),
      ),
    ).toMatchObject({ succeeded: false, message: 'dbt exited with code 1; its log says why' });
  });
});

describe('Function: parseTransformStopped, the task’s environment and times', () => {
  it('reads the batch from the dbt container’s environment, not another container’s', () => {
    const event = stateChange({
      overrides: {
        containerOverrides: [
          { name: 'log-router', environment: [{ name: 'LOG_LEVEL', value: 'info' }] },
          { name: dbtContainerName, environment: transformEnvironment({ batchId }) },
        ],
      },
    });
    expect(parseTransformStopped(event)).toEqual({ batchId, taskId: taskArn, succeeded: true });
  });

  it('gives when dbt started and stopped when the event has both times, and neither otherwise', () => {
    const startedAt = '2025-01-02T06:01:00.000Z';
    const stoppedAt = '2025-01-02T06:29:00.000Z';
    expect(parseTransformStopped(stateChange({ startedAt, stoppedAt }))).toEqual({
      batchId,
      taskId: taskArn,
      succeeded: true,
      startedAt,
      stoppedAt,
    });
    for (const times of [{}, { startedAt }, { stoppedAt }]) {
      const stopped = parseTransformStopped(stateChange(times));
      expect(stopped).not.toHaveProperty('startedAt');
      expect(stopped).not.toHaveProperty('stoppedAt');
    }
  });
});
