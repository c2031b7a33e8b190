import type { Zone } from './zones.js';

/** How a command ended. `stdout` and `stderr` are empty for a command shown as it runs. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the command's standard input (a password for `docker login --password-stdin`). */
  readonly input?: string;
  /** Added to the deploy's own environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Let the command print to the terminal as it runs (serverless, docker build) instead of capturing. */
  readonly show?: boolean;
}

/** Runs the tools the deploy drives: git, docker, npx serverless, hadolint, cfn-lint. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** A registry login, as ECR GetAuthorizationToken gives it. The password is never printed. */
export interface RegistryLogin {
  readonly registry: string;
  readonly username: string;
  readonly password: string;
}

/** What the deploy asks AWS, in the deploy's region. */
export interface DeployAws {
  /** STS GetCallerIdentity: whose credentials these are. */
  callerIdentity(): Promise<{ readonly account: string; readonly arn: string }>;
  /** EC2 DescribeAvailabilityZones: the region's available zones, names and IDs, in this account. */
  availabilityZones(): Promise<readonly Zone[]>;
  /** ECR DescribeRepositories: the repository's URI, or undefined when there is none yet. */
  repositoryUri(repository: string): Promise<string | undefined>;
  /** ECR DescribeImages: whether the repository holds an image with this tag. */
  imageExists(repository: string, tag: string): Promise<boolean>;
  /** ECR GetAuthorizationToken: the login for `docker login`. */
  registryLogin(): Promise<RegistryLogin>;
}
