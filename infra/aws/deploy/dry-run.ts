import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { parseJsonOrThrow } from '../../../shared/parse.js';
import type { DeployOptions } from './options.js';
import {
  binfmtInstall,
  imagePlatform,
  imageTag,
  runStep,
  serverlessArgs,
  shown,
  type StepContext,
} from './prerequisites.js';
import { chooseZones } from './zones.js';

/** Where the dry run finds the linters: the moto virtualenv (infra/aws/moto/requirements.txt). */
export const lintTools = { hadolint: '.venv-moto/bin/hadolint', cfnLint: '.venv-moto/bin/cfn-lint' };

/**
 * Credentials that are no one's: packaging needs none, and with these it could never reach an account.
 */
const noAccount = {
  AWS_ACCESS_KEY_ID: 'dry-run',
  AWS_SECRET_ACCESS_KEY: 'dry-run',
  AWS_SESSION_TOKEN: 'dry-run',
  AWS_PROFILE: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  SLS_TELEMETRY_DISABLED: '1',
};

const stateSchema = z.object({
  service: z.object({
    provider: z.object({
      stackParameters: z
        .array(z.object({ ParameterKey: z.string(), ParameterValue: z.unknown() }))
        .default([]),
    }),
  }),
});

/**
 * `npm run deploy -- --dry-run`: every step that needs no AWS account. It lints dbt/Dockerfile
 * (hadolint), packages the stack for the stage and region with the params a deploy would pass
 * (serverless package), checks that the template receives them and lints it (cfn-lint, no
 * error), chooses the zones from the table, and prints the commands a deploy would run.
 */
export const dryRun = async (options: DeployOptions, context: StepContext): Promise<void> => {
  const stackName = `chartflow-${options.stage}`;
  context.say(`Dry run for ${stackName} in ${options.region}: no AWS account is used`);
  context.say('Tagging the image with the commit');
  const tag = await imageTag(context, options);
  context.say(`  tag ${tag}`);
  context.say(`Choosing three zones Redshift Serverless supports in ${options.region} (from AWS's list)`);
  const choice = chooseZones(options.region, options.zones, undefined);
  for (const note of choice.notes) context.say(`  note: ${note}`);
  context.say(
    `  subnets in ${choice.ids.join(', ')} (a deploy keeps those the account has, in its zone-name order)`,
  );
  context.say('Installing the linters, once (infra/local/ensure-moto-venv.sh)');
  await runStep(context, 'bash', ['infra/local/ensure-moto-venv.sh'], 'the linters could not be installed');
  context.say('Linting dbt/Dockerfile (hadolint)');
  await runStep(
    context,
    lintTools.hadolint,
    ['--failure-threshold', 'info', 'dbt/Dockerfile'],
    'hadolint found problems in dbt/Dockerfile',
  );
  const own = { tag, scheduleEnabled: false, zoneIds: choice.ids };
  const dir = await mkdtemp(path.join(tmpdir(), 'chartflow-deploy-'));
  try {
    context.say(`Packaging the stack (serverless package, into ${dir})`);
    const args = [...serverlessArgs('package', options, own), '--package', dir];
    await runStep(context, 'npx', args, 'serverless package failed', { env: noAccount });
    await checkStackParameters(dir, {
      DbtImageTag: tag,
      ScheduleEnabled: 'false',
      PrivateSubnetAzIdA: choice.ids[0],
      PrivateSubnetAzIdB: choice.ids[1],
      PrivateSubnetAzIdC: choice.ids[2],
    });
    context.say('  the template receives the image tag, the schedule and the three zones');
    context.say('Linting the template (cfn-lint)');
    await lintTemplate(context, path.join(dir, 'cloudformation-template-update-stack.json'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printPlan(options, context, own);
};

const checkStackParameters = async (dir: string, expected: Readonly<Record<string, string>>) => {
  const file = path.join(dir, 'serverless-state.json');
  const state = parseJsonOrThrow(stateSchema, await readFile(file, 'utf8'), file, ConfigError);
  const passed = new Map(
    state.service.provider.stackParameters.map((p) => [p.ParameterKey, String(p.ParameterValue)]),
  );
  for (const [key, value] of Object.entries(expected)) {
    if (passed.get(key) !== value) {
      throw new ConfigError(
        `the packaged stack passes ${key}=${JSON.stringify(passed.get(key) ?? null)}, not ${JSON.stringify(value)}: serverless.yml's provider.stackParameters must pass it from its param`,
      );
    }
  }
};

/** cfn-lint on the packaged template: an error fails the dry run; warnings are counted. */
const lintTemplate = async (context: StepContext, template: string) => {
  context.say(`  $ ${shown(lintTools.cfnLint, ['--format', 'parseable', '--', template])}`);
  const result = await context.runner.run(lintTools.cfnLint, ['--format', 'parseable', '--', template]);
  // parseable: file:line:column:endLine:endColumn:rule:message, one finding a line; E… are errors.
  const findings = result.stdout.split('\n').filter((l) => l.trim());
  const errors = findings.filter((l) => /:E\d{4}:/.test(l));
  if (errors.length > 0 || (result.exitCode !== 0 && findings.length === 0)) {
    throw new ConfigError(
      `cfn-lint found ${errors.length} error(s) in the packaged template: ${errors.slice(0, 5).join(' | ') || result.stderr.trim()}`,
    );
  }
  context.say(`  no error (${findings.length} warning(s) or note(s))`);
  for (const finding of findings.slice(0, 20))
    context.say(`  ${finding.replace(`${template}:`, 'template:')}`);
};

const printPlan = (
  options: DeployOptions,
  context: StepContext,
  own: { tag: string; zoneIds: readonly string[] },
) => {
  const repository = `<account>.dkr.ecr.${options.region}.amazonaws.com/chartflow-${options.stage}-dbt`;
  const deployArgs = (scheduleEnabled: boolean) =>
    serverlessArgs('deploy', options, { ...own, scheduleEnabled });
  context.say('A deploy would run, on a first deploy (no repository yet):');
  for (const line of [
    'aws sts get-caller-identity',
    'docker buildx version && docker buildx inspect --bootstrap',
    `  (${imagePlatform} must be among its platforms; if not: ${binfmtInstall})`,
    'aws ec2 describe-availability-zones (the zones above, as this account names them)',
    shown('npx', deployArgs(false)),
    `docker login --username AWS --password-stdin <registry>   (the password from ecr:GetAuthorizationToken, on stdin)`,
    shown('docker', [
      'buildx',
      'build',
      '--platform',
      imagePlatform,
      '--tag',
      `${repository}:${own.tag}`,
      '--push',
      'dbt/',
    ]),
    `aws ecr describe-images --repository-name chartflow-${options.stage}-dbt --image-ids imageTag=${own.tag}`,
    shown('npx', deployArgs(true)),
  ]) {
    context.say(`  ${line}`);
  }
  context.say(
    'and when the repository exists, the image first (if it is not there) and one deploy with the schedule on.',
  );
  context.say('Dry run passed.');
};
