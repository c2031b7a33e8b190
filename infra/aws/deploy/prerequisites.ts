import { ConfigError } from '../../../shared/errors.js';
import type { DeployOptions } from './options.js';
import type { CommandResult, CommandRunner, RunOptions } from './ports.js';

/** What the deploy's steps share: the tools, where to say what happens, and the time. */
export interface StepContext {
  readonly runner: CommandRunner;
  /** One line to the user. */
  readonly say: (line: string) => void;
  readonly now: () => Date;
}

/** The platform the dbt task runs on (infra/dbt.yml's RuntimePlatform). */
export const imagePlatform = 'linux/arm64';

/** How to make docker buildx build for arm64 on another machine: QEMU through binfmt_misc. */
export const binfmtInstall = 'docker run --privileged --rm tonistiigi/binfmt --install arm64';

/** A command as the user would type it, for the plan and the log. Secrets go through stdin, never here. */
export const shown = (command: string, args: readonly string[]): string =>
  [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

/** Runs a command, printing it first; a failure is said with what the command printed last. */
export const runStep = async (
  context: StepContext,
  command: string,
  args: readonly string[],
  failure: string,
  options: RunOptions = {},
): Promise<CommandResult> => {
  context.say(`  $ ${shown(command, args)}`);
  const result = await context.runner.run(command, args, options);
  if (result.exitCode !== 0) {
    const said = lastLines(`${result.stdout}\n${result.stderr}`);
    throw new ConfigError(`${failure} (${command} exited with ${result.exitCode})${said ? `: ${said}` : ''}`);
  }
  return result;
};

const lastLines = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-5)
    .join(' | ');

/**
 * docker buildx is installed and its builder can build linux/arm64 (`docker buildx inspect
 * --bootstrap` lists the platforms it has). Refused before anything is deployed, saying how to fix it.
 */
export const checkBuildx = async (context: StepContext): Promise<void> => {
  context.say('Checking docker buildx and its linux/arm64 support');
  const version = await context.runner.run('docker', ['buildx', 'version']);
  if (version.exitCode !== 0) {
    throw new ConfigError(
      'docker buildx is not available: install Docker with its buildx plugin (docs/aws.md, "Prerequisites"), then run npm run deploy again',
    );
  }
  const inspect = await context.runner.run('docker', ['buildx', 'inspect', '--bootstrap']);
  if (inspect.exitCode !== 0) {
    throw new ConfigError(
      `docker buildx's builder does not answer (is the Docker daemon running?): ${lastLines(inspect.stderr || inspect.stdout)}`,
    );
  }
  const platforms = inspect.stdout
    .split('\n')
    .filter((line) => /^\s*Platforms:/.test(line))
    .flatMap((line) => line.replace(/^\s*Platforms:/, '').split(','))
    .map((p) => p.trim().replace(/\*$/, ''))
    .filter(Boolean);
  if (!platforms.some((p) => p === imagePlatform || p.startsWith(`${imagePlatform}/`))) {
    throw new ConfigError(
      `docker buildx cannot build ${imagePlatform} here (its builder has ${platforms.join(', ') || 'no platform listed'}): install QEMU's arm64 emulation with \`${binfmtInstall}\`, then run npm run deploy again`,
    );
  }
};

const stamp = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * The image's tag: the commit (12 hex digits). A tree with uncommitted changes is refused unless
 * `allowDirty`, and then tagged `<commit>-dirty-<UTC time>`, so that no tag ever names two builds.
 * A dry run only says what a deploy would do.
 */
export const imageTag = async (
  context: StepContext,
  options: Pick<DeployOptions, 'allowDirty' | 'dryRun'>,
): Promise<string> => {
  const head = await runStep(
    context,
    'git',
    ['rev-parse', '--short=12', 'HEAD'],
    'no git commit to tag the image with',
  );
  const commit = head.stdout.trim();
  if (!/^[0-9a-f]{12}$/.test(commit))
    throw new ConfigError(`git rev-parse answered ${JSON.stringify(commit)}, not a commit`);
  const status = await runStep(context, 'git', ['status', '--porcelain'], 'git status failed');
  const changed = status.stdout.split('\n').filter((l) => l.trim());
  if (changed.length === 0) return commit;
  const which = `${changed.length} uncommitted change${changed.length === 1 ? '' : 's'}, such as ${changed[0]!.slice(3)}`;
  if (!options.allowDirty && !options.dryRun) {
    throw new ConfigError(
      `the work tree has ${which}: commit them, so that the image's tag names what it was built from, or pass --allow-dirty`,
    );
  }
  if (!options.allowDirty) {
    context.say(`  the tree has ${which}: a deploy would refuse it without --allow-dirty`);
  }
  return `${commit}-dirty-${stamp(context.now())}`;
};

/** `npx serverless <command>` with the user's params and the deploy's own. */
export const serverlessArgs = (
  command: 'deploy' | 'package',
  options: Pick<DeployOptions, 'stage' | 'region' | 'params'>,
  own: { tag: string; scheduleEnabled: boolean; zoneIds: readonly string[] },
): string[] => {
  const params = {
    ...options.params,
    dbtImageTag: own.tag,
    scheduleEnabled: String(own.scheduleEnabled),
    subnetAzIdA: own.zoneIds[0]!,
    subnetAzIdB: own.zoneIds[1]!,
    subnetAzIdC: own.zoneIds[2]!,
  };
  return [
    'serverless',
    command,
    '--stage',
    options.stage,
    '--region',
    options.region,
    ...Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
  ];
};
