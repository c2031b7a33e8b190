import type { Command } from 'commander';
import * as z from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import type { AwsAccess } from '../../aws/cli/aws-clients.js';
import type { AwsSession } from '../../aws/cli/aws-session.js';
import type { StackTarget } from '../../aws/cli/stack.js';
import type { CliContext } from './context.js';
import { parseOptions, UsageError, waitShape } from './options.js';

/** Adds `--target`, and the options that name the deployed stack, to a command. */
export const withTargetOptions = (command: Command): Command =>
  command
    .option(
      '--target <embedded|aws>',
      'where: embedded (this machine, the default) or aws (the deployed stack)',
    )
    .option('--stage <stage>', 'with --target aws: the deployed stage (default: dev)')
    .option(
      '--region <region>',
      "with --target aws: the stack's region (default: AWS_REGION, then AWS_DEFAULT_REGION)",
    )
    .option('--stack <name>', 'with --target aws: the CloudFormation stack (default: chartflow-<stage>)');

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1');

/** The schema of the target options, to spread into a command's own. */
export const targetShape = {
  target: z.enum(['embedded', 'aws'], { message: 'must be embedded or aws' }).default('embedded'),
  stage: z
    .string()
    .regex(/^[a-zA-Z0-9-]{1,32}$/, 'must be a serverless stage name (letters, digits, -)')
    .optional(),
  region: region.optional(),
  stack: z
    .string()
    .regex(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/, 'must be a CloudFormation stack name')
    .optional(),
};

/** The target options, as parsed. */
export interface TargetOptions {
  readonly target: 'embedded' | 'aws';
  readonly stage?: string | undefined;
  readonly region?: string | undefined;
  readonly stack?: string | undefined;
}

/** Where a command works: this machine, or the deployed stack with the clients to reach it. */
export type Target =
  | { readonly kind: 'embedded' }
  | ({ readonly kind: 'aws' } & StackTarget & { readonly access: AwsAccess | undefined });

/**
 * Resolves the target. For AWS: the stage (default `dev`), the stack (default `chartflow-<stage>`),
 * the region (`--region`, else AWS_REGION, else AWS_DEFAULT_REGION, else a ConfigError naming them).
 * {@link onAws} opens the clients. Credentials are left to the SDK's default chain.
 */
export const resolveTarget = (options: TargetOptions, context: CliContext): Target => {
  if (options.target === 'embedded') {
    const awsOnly = (['stage', 'region', 'stack'] as const).find((o) => options[o] !== undefined);
    if (awsOnly) throw new UsageError(`--${awsOnly} is for --target aws only.`);
    return { kind: 'embedded' };
  }
  const stage = options.stage ?? 'dev';
  const stackName = options.stack ?? `chartflow-${stage}`;
  const regionName = options.region ?? regionFromEnvironment(context.processEnv);
  return {
    kind: 'aws',
    stage,
    stackName,
    region: regionName,
    access: context.aws,
  };
};

const regionFromEnvironment = (env: Readonly<Record<string, string | undefined>>): string => {
  for (const variable of ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const value = env[variable]?.trim();
    if (!value) continue;
    const parsed = region.safeParse(value);
    if (!parsed.success) throw new ConfigError(`${variable} is invalid: ${parsed.error.issues[0]!.message}.`);
    return parsed.data;
  }
  throw new ConfigError(
    'no AWS region for --target aws: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION.',
  );
};

/**
 * Runs `work` on the AWS target, with clients opened for it and always closed after. The SDK is
 * loaded here, when a command goes to AWS, not when the CLI starts.
 */
export const onAws = async <T>(
  target: Extract<Target, { kind: 'aws' }>,
  work: (aws: AwsSession) => Promise<T>,
): Promise<T> => {
  const { openAwsSession } = await import('../../aws/cli/aws-session.js');
  const aws = openAwsSession(target, target.access);
  try {
    return await work(aws);
  } finally {
    aws.destroy();
  }
};

/**
 * `--wait [seconds]` of a command that runs here or on AWS: on this machine, how long to wait for
 * the home (seconds, as every writing command); with `--target aws`, a flag: follow the work there
 * until it ends (`awsWhat`). Spread {@link targetWaitShape} into the command's schema.
 */
export const targetWaitOption = (awsWhat: string) =>
  [
    '--wait [seconds]',
    `with --target aws: ${awsWhat}; on this machine: how long to wait for the home when another command writes to it (default: 60)`,
  ] as const;

export const targetWaitShape = { wait: z.union([z.literal(true), z.string()]).optional() };

/**
 * Reads `--wait` for the target: on AWS whether to follow the work, here the seconds (as
 * {@link waitShape}).
 *
 * @throws {UsageError} for seconds with `--target aws`, or a bare `--wait` on this machine
 */
export const targetWait = (
  wait: true | string | undefined,
  target: TargetOptions['target'],
  what: { aws: string; embedded: string },
): { readonly aws: boolean; readonly homeSeconds: number } => {
  if (target === 'aws') {
    if (typeof wait === 'string')
      throw new UsageError(`With --target aws, --wait takes no seconds: ${what.aws}.`);
    return { aws: wait === true, homeSeconds: 0 };
  }
  if (wait === true)
    throw new UsageError(
      `--wait on this machine takes seconds (how long to wait for the home): ${what.embedded}.`,
    );
  return { aws: false, homeSeconds: parseOptions(z.object(waitShape), { wait }).wait };
};
