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
