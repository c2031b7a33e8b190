import * as z from 'zod';

/** What of a stopped task tells that its image could not be pulled, and whose stack it is. */
const pullSchema = z.object({
  detail: z.object({
    taskDefinitionArn: z.string().optional(),
    stoppedReason: z.string().optional(),
    containers: z.array(
      z.object({ name: z.string(), image: z.string().optional(), reason: z.string().optional() }),
    ),
  }),
});

/** `arn:aws:ecs:<region>:<account>:task-definition/<stack>-dbt:<revision>` (infra/dbt.yml's family). */
const taskDefinitionArn = /^arn:[^:]+:ecs:([a-z0-9-]+):\d+:task-definition\/(.+)-dbt:\d+$/;

/**
 * Why a dbt task stopped when it could not pull its image (ECS's CannotPullContainerError): the tag
 * the deploy set is not in ECR (no image pushed yet, or a deploy that stopped before its push), or
 * ECR could not be reached. Said with the command that pushes the image for the task's own stack
 * (`chartflow-<stage>`, in the task definition's region), followed by ECS's own words;
 * `undefined` for any other stop (docs/aws.md, "npm run deploy").
 *
 * @param event - the ECS Task State Change, already checked by its own schema
 */
export const imagePullFailure = (event: unknown, containerName: string): string | undefined => {
  const parsed = pullSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const { detail } = parsed.data;
  const container = detail.containers.find((c) => c.name === containerName);
  const reason = [container?.reason, detail.stoppedReason].find((r) =>
    r?.includes('CannotPullContainerError'),
  );
  if (!reason) return undefined;
  // Stryker disable next-line StringLiteral: any text without the `arn:` start, as '' is, fails to match, so a missing ARN reads the same
  const arn = taskDefinitionArn.exec(detail.taskDefinitionArn ?? '');
  // Stryker disable next-line OptionalChaining: `arn?.[2].startsWith` is the same, as `(.+)` always captures a group 2 when arn matched, and a null arn ends the chain at `arn?.` (the directive also takes `arn[2]?.`, which the test of a task without a task definition kills)
  const stage = arn?.[2]?.startsWith('chartflow-') ? arn[2].slice('chartflow-'.length) : '<stage>';
  const push = `npm run deploy -- --stage ${stage} --region ${arn?.[1] ?? '<region>'}`;
  return `the dbt image ${container?.image ?? 'of the task'} is missing from ECR, or could not be pulled: push it with \`${push}\`, which builds the image, tags it with the commit and points the task at it (docs/aws.md, "npm run deploy"). ECS said: ${reason}`;
};
