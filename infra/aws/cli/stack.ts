import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { awsError, awsErrorName } from '../../adapters/aws/aws-errors.js';
import { ConfigError, InvalidRecordError, type ChartflowError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';

/** The deployed stack a command works on. */
export interface StackTarget {
  readonly stackName: string;
  readonly stage: string;
  readonly region: string;
}

/** The stack outputs the CLI reads (the names serverless.yml gives them), each with the shape it must have. */
const outputSchemas = {
  LakeBucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'is not an S3 bucket name'),
  ReplayFunctionName: z.string().regex(/^[A-Za-z0-9_:.-]{1,140}$/, 'is not a Lambda function name'),
  ReconcilerFunctionName: z.string().regex(/^[A-Za-z0-9_:.-]{1,140}$/, 'is not a Lambda function name'),
  WarehouseWorkgroupName: z
    .string()
    .regex(/^[a-z0-9-]{3,64}$/, 'is not a Redshift Serverless workgroup name'),
  WarehouseDatabaseName: z.string().regex(/^[a-z_][a-z0-9_$]{0,126}$/, 'is not a Redshift database name'),
  EventBusName: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, 'is not an EventBridge bus name'),
  LakeDatabaseName: z.string().regex(/^[a-z0-9_]{1,255}$/, 'is not a Glue database name Athena can query'),
  LakeWorkgroupName: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'is not an Athena workgroup name'),
  LakeAnalystRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'is not an IAM role ARN'),
} as const;

/** A stack output the CLI can ask for. */
export type StackOutputName = keyof typeof outputSchemas;

const describeStacksSchema = z.object({
  Stacks: z
    .array(
      z.object({
        StackName: z.string(),
        StackStatus: z.string(),
        Outputs: z
          .array(z.object({ OutputKey: z.string(), OutputValue: z.string() }))
          .optional()
          .default([]),
      }),
    )
    .min(1),
});

const deployHint = (target: StackTarget) => `npx serverless deploy --stage ${target.stage}`;

/**
 * Reads the outputs a command needs from the stack (CloudFormation DescribeStacks), so that the CLI
 * needs no names but the stage's. A stack that does not exist, or lacks an output, is a
 * {@link ConfigError} that says how to deploy it; missing credentials too.
 */
export const readStackOutputs = async <K extends StackOutputName>(
  client: CloudFormationClient,
  target: StackTarget,
  wanted: readonly K[],
): Promise<Record<K, string>> => {
  let answer;
  try {
    answer = await client.send(new DescribeStacksCommand({ StackName: target.stackName }));
  } catch (error) {
    throw describeStacksFailed(target, error);
  }
  const stack = parseOrThrow(
    describeStacksSchema,
    answer,
    `CloudFormation DescribeStacks ${target.stackName}: the answer`,
  ).Stacks[0]!;
  const outputs = new Map(stack.Outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const found = {} as Record<K, string>;
  for (const name of wanted) {
    const value = outputs.get(name);
    if (value === undefined) {
      throw new ConfigError(
        `stack ${target.stackName} in ${target.region} (${stack.StackStatus}) has no output ${name}: deploy it again with ${deployHint(target)}`,
      );
    }
    const checked = outputSchemas[name].safeParse(value);
    if (!checked.success) {
      throw new InvalidRecordError(
        `stack ${target.stackName} in ${target.region}: output ${name} ${checked.error.issues[0]!.message} (${JSON.stringify(value)})`,
      );
    }
    found[name] = checked.data;
  }
  return found;
};

const describeStacksFailed = (target: StackTarget, error: unknown): ChartflowError => {
  const name = awsErrorName(error);
  const message = (error as Error | undefined)?.message ?? '';
  // CloudFormation answers a missing stack with a 400 ValidationError "Stack with id … does not exist".
  if (name === 'ValidationError' && /does not exist/.test(message)) {
    return new ConfigError(
      `stack ${target.stackName} not found in ${target.region}: deploy it with ${deployHint(target)}`,
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new ConfigError(
      'no AWS credentials found: set AWS_PROFILE (and run aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      { cause: error },
    );
  }
  return awsError(`CloudFormation DescribeStacks ${target.stackName} in ${target.region}`, error);
};
