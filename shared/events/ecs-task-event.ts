import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod';
import { parseOrThrow } from '../parse.js';
import type { TransformRequest } from '../ports/transform-runner.js';
import { batchId } from '../records/messages.js';
import { imagePullFailure } from './image-pull-failure.js';

/** The container that runs dbt, in the Fargate task definition and its local twin. */
export const dbtContainerName = 'dbt';

/** A transform request as the dbt container's environment: how the stop event tells which batch ended. */
export const transformEnvironment = (request: TransformRequest): { name: string; value: string }[] => [
  { name: 'CHARTFLOW_BATCH_ID', value: request.batchId },
];

export const ecsTaskStateChange = 'ECS Task State Change';

const taskDetailSchema = z.object({
  taskArn: z.string(),
  lastStatus: z.string(),
  stoppedReason: z.string().optional(),
  // When the task started and stopped: how long dbt ran. Read as text and never refused: a time
  // that does not parse leaves dbt's duration to the run records (shared/transform/batch-protocol.ts).
  startedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  containers: z.array(
    z.object({ name: z.string(), exitCode: z.number().int().optional(), reason: z.string().optional() }),
  ),
  overrides: z.object({
    containerOverrides: z.array(
      z.object({
        name: z.string(),
        environment: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
      }),
    ),
  }),
});
export type EcsTaskDetail = z.infer<typeof taskDetailSchema>;

/** The event EventBridge delivers when a task changes state: its envelope, with the task as detail. */
const taskStateChangeSchema = EventBridgeSchema.extend({
  'detail-type': z.literal(ecsTaskStateChange),
  detail: taskDetailSchema,
});

const requestSchema = z.object({ CHARTFLOW_BATCH_ID: batchId });

/** The exit code of `timeout` when it stopped the build (dbt/Dockerfile's entrypoint). */
export const dbtTimedOutExitCode = 124;

/**
 * Why a dbt task failed, in words: the container's own reason (it could not start: the image, the
 * network), else its exit code — which on Fargate comes with no reason, the build's errors being in
 * the task's log — else the task's stopped reason.
 */
const failureMessage = (
  container: EcsTaskDetail['containers'][number] | undefined,
  stoppedReason: string | undefined,
): string => {
  if (container?.reason) return container.reason;
  if (container?.exitCode === dbtTimedOutExitCode) {
    return `dbt was stopped by its time limit (exit code ${dbtTimedOutExitCode}); its log says where it was`;
  }
  if (container?.exitCode !== undefined) {
    return `dbt exited with code ${container.exitCode}; its log says why`;
  }
  return stoppedReason ?? 'dbt stopped without an exit code';
};

/** How a dbt task ended; `undefined` for a state change that is not its stop. */
export const parseTransformStopped = (
  event: unknown,
):
  | (TransformRequest & {
      taskId: string;
      succeeded: boolean;
      message?: string;
      startedAt?: string;
      stoppedAt?: string;
    })
  | undefined => {
  const { detail } = parseOrThrow(taskStateChangeSchema, event, `${ecsTaskStateChange} event`);
  if (detail.lastStatus !== 'STOPPED') return undefined;
  const override = detail.overrides.containerOverrides.find((o) => o.name === dbtContainerName);
  // Stryker disable next-line ArrayDeclaration: an override without environment is refused either way, as `{ undefined: undefined }` has no CHARTFLOW_BATCH_ID just as `{}` has none, and the schema ignores the other key
  const env = Object.fromEntries((override?.environment ?? []).map((e) => [e.name, e.value]));
  const request = parseOrThrow(requestSchema, env, `ECS task ${detail.taskArn}: not a chartflow transform`);
  const container = detail.containers.find((c) => c.name === dbtContainerName);
  const succeeded = container?.exitCode === 0;
  const message = succeeded
    ? undefined
    : (imagePullFailure(event, dbtContainerName) ?? failureMessage(container, detail.stoppedReason));
  return {
    batchId: request.CHARTFLOW_BATCH_ID,
    taskId: detail.taskArn,
    succeeded,
    ...(message ? { message } : {}),
    ...(detail.startedAt && detail.stoppedAt
      ? { startedAt: detail.startedAt, stoppedAt: detail.stoppedAt }
      : {}),
  };
};
