import { CommanderError } from 'commander';
import { ChartflowError } from '../../../shared/errors.js';
import type { AwsClientSettings } from '../cli/aws-clients.js';
import { ChildProcessRunner } from './command-runner.js';
import { deploy } from './deploy.js';
import { dryRun } from './dry-run.js';
import { deployCommand, parseDeployOptions } from './options.js';
import type { CommandRunner } from './ports.js';

/** What the deploy runs with; the tests replace the runner and point AWS at moto. */
export interface DeployMainContext {
  readonly root: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => Date;
  readonly runner?: CommandRunner;
  readonly aws?: AwsClientSettings;
}

/**
 * `npm run deploy -- [--stage S] [--region R] [--param k=v]… [--dry-run] [--allow-dirty]`
 * (docs/aws.md, "npm run deploy"). Returns the exit code: 0 done, 1 a step failed (said on
 * stderr with what to do), 2 a mistake in the command line.
 */
export const deployMain = async (argv: readonly string[], context: DeployMainContext): Promise<number> => {
  const command = deployCommand().configureOutput({
    writeOut: (text) => context.out(text.trimEnd()),
    writeErr: (text) => context.err(text.trimEnd()),
  });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const step = {
    runner: context.runner ?? new ChildProcessRunner(context.root),
    say: context.out,
    now: context.now,
  };
  try {
    const options = parseDeployOptions(command.opts(), context.env);
    if (options.dryRun) {
      await dryRun(options, step);
      return 0;
    }
    const { openDeployAws } = await import('./aws-deploy.js');
    const aws = openDeployAws(options.region, context.aws);
    try {
      const result = await deploy(options, { ...step, aws });
      context.out(`Deployed ${result.stackName}: the dbt task runs ${result.image}, and the schedule is on.`);
      return 0;
    } finally {
      aws.destroy();
    }
  } catch (error) {
    if (!(error instanceof ChartflowError)) throw error;
    context.err(`deploy: ${error.message}`);
    return 1;
  }
};
