import { Command, Option } from 'commander';
import * as z from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { subnetParams, type SubnetParam } from './zones.js';

/** What `npm run deploy` was asked to do. */
export interface DeployOptions {
  readonly stage: string;
  readonly region: string;
  /** `--param` values passed through to serverless, less the subnets' (in `zones`). */
  readonly params: Readonly<Record<string, string>>;
  /** The subnets' zone IDs the user named. */
  readonly zones: Partial<Record<SubnetParam, string>>;
  readonly dryRun: boolean;
  readonly allowDirty: boolean;
}

/** The params the deploy sets itself, from the commit and the image (docs/aws.md, "npm run deploy"). */
const ownParams = ['dbtImageTag', 'scheduleEnabled'];

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1');

const param = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*=/, 'must be name=value, such as "charts=global=37i9dQZEVXbMDoHDwVN2tF"')
  .refine((p) => !ownParams.includes(p.slice(0, p.indexOf('='))), {
    message: `dbtImageTag and scheduleEnabled are the deploy's to set: it tags the image with the commit and enables the schedule once the image is in ECR`,
  });

const optionsSchema = z.object({
  stage: z
    .string()
    .regex(/^[a-zA-Z0-9-]{1,32}$/, 'must be a serverless stage name (letters, digits, -)')
    .default('dev'),
  region: region.optional(),
  param: z.array(param).default([]),
  dryRun: z.boolean().default(false),
  allowDirty: z.boolean().default(false),
});

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The command line of `npm run deploy -- …` (commander), for its parsing and its --help. */
export const deployCommand = (): Command =>
  new Command('npm run deploy --')
    .description(
      'Deploys chartflow on AWS: the stack, and the dbt image tagged with the commit (docs/aws.md)',
    )
    .option('--stage <stage>', 'the serverless stage; the stack is chartflow-<stage>', 'dev')
    .option('--region <region>', 'the AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION)')
    .addOption(
      new Option('--param <name=value>', 'a serverless.yml param, passed through (repeatable)').argParser(
        collect,
      ),
    )
    .option(
      '--dry-run',
      'do what needs no AWS account: package, lint the template and the Dockerfile, print the plan',
    )
    .option('--allow-dirty', 'deploy uncommitted changes; the image is tagged <commit>-dirty-<time>')
    .allowExcessArguments(false)
    .exitOverride();

/**
 * Parses the deploy's options (`opts()` of {@link deployCommand}) and the environment's region.
 * A mistake is a ConfigError naming the option and what is wrong with it.
 */
export const parseDeployOptions = (
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
): DeployOptions => {
  const options = parseOrThrow(optionsSchema, raw, 'npm run deploy: the options', ConfigError);
  const fromEnv = (['AWS_REGION', 'AWS_DEFAULT_REGION'] as const).find((v) => env[v]?.trim());
  const regionName =
    options.region ??
    (fromEnv ? parseOrThrow(region, env[fromEnv]!.trim(), fromEnv, ConfigError) : undefined);
  if (!regionName) {
    throw new ConfigError('no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION');
  }
  const params: Record<string, string> = {};
  const zones: Partial<Record<SubnetParam, string>> = {};
  for (const entry of options.param) {
    const [name, value] = [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)];
    if ((subnetParams as readonly string[]).includes(name)) {
      if (value.trim()) zones[name as SubnetParam] = value.trim();
    } else {
      params[name] = value;
    }
  }
  return {
    stage: options.stage,
    region: regionName,
    params,
    zones,
    dryRun: options.dryRun,
    allowDirty: options.allowDirty,
  };
};
