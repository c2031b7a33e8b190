import { ConfigError } from '../../../shared/errors.js';
import type { DeployOptions } from './options.js';
import type { DeployAws } from './ports.js';
import {
  checkBuildx,
  imagePlatform,
  imageTag,
  runStep,
  serverlessArgs,
  type StepContext,
} from './prerequisites.js';
import { chooseZones } from './zones.js';

/** What a deploy ended with. */
export interface DeployResult {
  readonly stackName: string;
  readonly image: string;
  /** How many `serverless deploy` it took: one when the image was there before, else two. */
  readonly deploys: number;
}

interface Plan {
  readonly options: DeployOptions;
  readonly tag: string;
  readonly zoneIds: readonly string[];
  readonly repository: string;
}

/**
 * `npm run deploy` (docs/aws.md, "npm run deploy"): checks what a deploy needs, then deploys the
 * stack and the dbt image tagged with the commit. The schedule is enabled only by a deploy whose
 * image ECR has: a first deploy creates the repository with the schedule off, pushes, confirms
 * the image, and deploys again with the schedule on; a stack whose repository exists gets the
 * image first and one deploy; an image already there, one deploy.
 */
export const deploy = async (
  options: DeployOptions,
  context: StepContext & { readonly aws: DeployAws },
): Promise<DeployResult> => {
  const stackName = `chartflow-${options.stage}`;
  context.say(`Deploying ${stackName} to ${options.region}`);
  const plan = await prerequisites(options, context);
  const uri = await context.aws.repositoryUri(plan.repository);
  const image = (repositoryUri: string) => `${repositoryUri}:${plan.tag}`;
  if (uri && (await context.aws.imageExists(plan.repository, plan.tag))) {
    context.say(`The image ${image(uri)} is in ECR already`);
    await serverlessDeploy(plan, context, true);
    return { stackName, image: image(uri), deploys: 1 };
  }
  if (uri) {
    await pushImage(plan, uri, context);
    await serverlessDeploy(plan, context, true);
    return { stackName, image: image(uri), deploys: 1 };
  }
  context.say(
    `No repository ${plan.repository} yet: the stack creates it, with the schedule off until its image is in`,
  );
  await serverlessDeploy(plan, context, false);
  const created = await context.aws.repositoryUri(plan.repository);
  if (!created) {
    throw new ConfigError(
      `serverless deploy succeeded, but ECR has no repository ${plan.repository}: is serverless.yml's DbtRepository there?`,
    );
  }
  await pushImage(plan, created, context);
  context.say('Enabling the schedule, now that the image is in ECR');
  await serverlessDeploy(plan, context, true);
  return { stackName, image: image(created), deploys: 2 };
};

const prerequisites = async (
  options: DeployOptions,
  context: StepContext & { readonly aws: DeployAws },
): Promise<Plan> => {
  context.say('Checking the AWS credentials (STS GetCallerIdentity)');
  const identity = await context.aws.callerIdentity();
  context.say(`  account ${identity.account}, as ${identity.arn}`);
  await checkBuildx(context);
  context.say('Tagging the image with the commit');
  const tag = await imageTag(context, options);
  context.say(`  tag ${tag}`);
  context.say(
    `Choosing three zones Redshift Serverless supports in ${options.region} (EC2 DescribeAvailabilityZones)`,
  );
  const zones = await context.aws.availabilityZones();
  const choice = chooseZones(options.region, options.zones, zones);
  for (const note of choice.notes) context.say(`  note: ${note}`);
  context.say(`  subnets in ${choice.ids.join(', ')}`);
  return { options, tag, zoneIds: choice.ids, repository: `chartflow-${options.stage}-dbt` };
};

const serverlessDeploy = async (plan: Plan, context: StepContext, scheduleEnabled: boolean) => {
  context.say(`serverless deploy (image ${plan.tag}, schedule ${scheduleEnabled ? 'on' : 'off'})`);
  const args = serverlessArgs('deploy', plan.options, {
    tag: plan.tag,
    scheduleEnabled,
    zoneIds: plan.zoneIds,
  });
  await runStep(context, 'npx', args, 'serverless deploy failed; its output above says why', { show: true });
};

/** Logs docker in to ECR (the password through stdin), builds and pushes, and confirms the tag is there. */
const pushImage = async (plan: Plan, uri: string, context: StepContext & { readonly aws: DeployAws }) => {
  const image = `${uri}:${plan.tag}`;
  context.say(`Building and pushing the dbt image ${image}`);
  const login = await context.aws.registryLogin();
  await runStep(
    context,
    'docker',
    ['login', '--username', login.username, '--password-stdin', login.registry],
    `docker login to ${login.registry} failed`,
    { input: login.password },
  );
  await runStep(
    context,
    'docker',
    ['buildx', 'build', '--platform', imagePlatform, '--tag', image, '--push', 'dbt/'],
    `the dbt image did not build or push`,
    { show: true },
  );
  context.say(`Confirming the image is in ECR (DescribeImages ${plan.repository}:${plan.tag})`);
  if (!(await context.aws.imageExists(plan.repository, plan.tag))) {
    throw new ConfigError(
      `docker pushed ${image}, but ECR has no image tagged ${plan.tag} in ${plan.repository}: the schedule stays off; run npm run deploy -- --stage ${plan.options.stage} --region ${plan.options.region} again`,
    );
  }
};
