import { createHash } from 'node:crypto';
import { ECSClient, RunTaskCommand, type Failure, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { ConfigError, InvalidRecordError, RetryableError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { dbtContainerName, transformEnvironment } from '../../../shared/events/ecs-task-event.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import { batchId } from '../../../shared/records/messages.js';
import { awsError } from './aws-errors.js';

/** Options of an {@link EcsTransformRunner}. */
export interface EcsTransformRunnerOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: ECSClient;
  /** The cluster's name or ARN. */
  readonly cluster: string;
  /** The dbt task definition: `family`, `family:revision` or its ARN. */
  readonly taskDefinition: string;
  /** Private subnets with a route to Redshift and the AWS APIs (the task gets no public IP). */
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
}

const optionsSchema = z.object({
  client: z.instanceof(ECSClient, { message: 'must be an ECSClient' }),
  cluster: z.string().min(1, 'the ECS cluster is required'),
  taskDefinition: z.string().min(1, 'the dbt task definition is required'),
  subnets: z.array(z.string().min(1)).min(1, 'at least one subnet is required'),
  securityGroups: z.array(z.string().min(1)).min(1, 'at least one security group is required'),
});

/** What tasks we start say in `startedBy` (ListTasks can filter on it). */
export const transformStartedBy = 'chartflow';

/**
 * The RunTask client token of a batch: the same batch always gives the same token, so a retried
 * invocation that already started the task gets that task back instead of a second dbt run. ECS
 * takes up to 64 ASCII characters (33–126) and remembers a token for up to 24 hours within a
 * cluster (the same token with other parameters is a ConflictException); a batch id may be 80
 * characters, so the token is its SHA-256 in hex: exactly 64. Unknown without a real ECS: whether a
 * retry within that time, after an answer that placed no task, gets that same answer back.
 */
export const transformClientToken = (id: string): string =>
  createHash('sha256').update(`chartflow-transform:${id}`).digest('hex');

const describeFailure = (failure: Failure): string =>
  `${failure.arn ?? '(no resource)'}: ${failure.reason ?? 'no reason'}${failure.detail ? ` (${failure.detail})` : ''}`;

/**
 * Starts the dbt container as a Fargate task (RunTask), the batch id in its environment so that
 * the task's stop event names the batch. It only starts it: the ECS Task State Change event of its
 * stop reaches the stage clean-up.
 */
export class EcsTransformRunner implements TransformRunner {
  readonly #options: EcsTransformRunnerOptions;

  constructor(options: EcsTransformRunnerOptions) {
    parseOrThrow(optionsSchema, options, 'EcsTransformRunner options', ConfigError);
    this.#options = options;
  }

  /**
   * @returns the task's ARN as `taskId`
   * @throws {RetryableError} when ECS placed no task and said why (no ENI, no capacity…), or on
   *   throttling and server faults
   * @throws {PermanentError} when ECS refused the request (access, parameters, cluster) or answered nothing usable
   */
  async start(request: TransformRequest): Promise<{ taskId: string }> {
    const id = parseOrThrow(batchId, request.batchId, 'transform request: batchId');
    const { client, cluster, taskDefinition, subnets, securityGroups } = this.#options;
    const what = `ECS RunTask ${taskDefinition} on ${cluster} for batch ${id}`;
    const input: RunTaskCommandInput = {
      cluster,
      taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      startedBy: transformStartedBy,
      clientToken: transformClientToken(id),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...subnets],
          securityGroups: [...securityGroups],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: dbtContainerName, environment: transformEnvironment({ batchId: id }) }],
      },
    };

    let answer;
    try {
      answer = await client.send(new RunTaskCommand(input));
    } catch (error) {
      throw awsError(what, error);
    }
    const taskArn = answer.tasks?.find((task) => task.taskArn)?.taskArn;
    if (taskArn) return { taskId: taskArn };
    if (answer.failures?.length) {
      // Placement failures (no ENI left in the subnets, no Fargate capacity…) pass with time.
      throw new RetryableError(`${what} started no task: ${answer.failures.map(describeFailure).join('; ')}`);
    }
    throw new InvalidRecordError(`${what}: ECS answered with neither a task nor a failure`);
  }
}
