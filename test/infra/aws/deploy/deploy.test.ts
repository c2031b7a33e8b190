import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployMain } from '../../../../infra/aws/deploy/main.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../../../infra/aws/deploy/ports.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

/** A command the deploy ran, as the scripted runner saw it. */
interface Call {
  readonly line: string;
  readonly input?: string;
}

type Script = (
  command: string,
  args: readonly string[],
  options: RunOptions,
) => Promise<CommandResult> | CommandResult;

const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const commit = '0123456789ab';
const arm64Builder = [
  'Name:          default',
  'Driver:        docker',
  'Nodes:',
  'Name:             default',
  'Status:           running',
  'Platforms:        linux/amd64, linux/amd64/v2, linux/386, linux/arm64, linux/arm/v7',
].join('\n');
const amd64Builder = arm64Builder.replace(', linux/arm64, linux/arm/v7', '');
// moto's ECR token is base64 of "AWS:<account>-auth-token".
const mototokenPassword = '123456789012-auth-token';

/**
 * git, docker and serverless cannot run here (no Docker daemon, no AWS account): a runner that
 * answers them as they would, and plays their effects on moto: `serverless deploy` creates the
 * stack's ECR repository, `docker buildx build --push` puts the image.
 */
class ScriptedRunner implements CommandRunner {
  readonly calls: Call[] = [];
  constructor(private readonly script: Script) {}
  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({
      line: [command, ...args].join(' '),
      ...(options.input ? { input: options.input } : {}),
    });
    return this.script(command, args, options);
  }
}

describe.skipIf(!motoAvailable())(
  'npm run deploy against moto, with git, docker and serverless scripted',
  () => {
    let moto: Moto;
    let ecr: ECRClient;
    const region = 'us-east-1';
    const repository = 'chartflow-prod-dbt';

    beforeAll(async () => {
      moto = await startMoto();
      ecr = new ECRClient(moto.clientConfig);
    });
    afterAll(async () => {
      ecr?.destroy();
      await moto?.stop();
    });
    beforeEach(async () => {
      await moto.reset();
    });

    const pushImage = async (tag: string) => {
      await ecr.send(
        new PutImageCommand({
          repositoryName: repository,
          imageTag: tag,
          imageManifest: JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            config: { digest: `sha256:${'0'.repeat(64)}` },
            layers: [],
          }),
        }),
      );
    };

    /** The real tools' answers, with `overrides` for the command that should answer otherwise. */
    const tools =
      (overrides: { buildx?: Script; push?: Script; status?: string } = {}): Script =>
      async (command, args, options) => {
        const line = [command, ...args].join(' ');
        if (line === 'git rev-parse --short=12 HEAD') return ok(`${commit}\n`);
        if (line === 'git status --porcelain') return ok(overrides.status ?? '');
        if (line.startsWith('docker buildx version') || line.startsWith('docker buildx inspect')) {
          if (overrides.buildx) return overrides.buildx(command, args, options);
          return ok(
            line.startsWith('docker buildx version') ? 'github.com/docker/buildx v0.19.3' : arm64Builder,
          );
        }
        if (line.startsWith('npx serverless deploy')) {
          await ecr
            .send(new CreateRepositoryCommand({ repositoryName: repository }))
            .catch((error: Error) => {
              if (error.name !== 'RepositoryAlreadyExistsException') throw error;
            });
          return ok();
        }
        if (line.startsWith('docker login')) return ok('Login Succeeded');
        if (line.startsWith('docker buildx build')) {
          if (overrides.push) return overrides.push(command, args, options);
          await pushImage(/:([^:\s]+) --push/.exec(line)![1]!);
          return ok();
        }
        return { exitCode: 127, stdout: '', stderr: `${command}: not scripted` };
      };

    const deploy = async (runner: ScriptedRunner, args: readonly string[] = []) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await deployMain(['--stage', 'prod', '--region', region, ...args], {
        root: process.cwd(),
        env: {},
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        now: () => new Date('2026-12-07T13:04:05.000Z'),
        runner,
        aws: moto.clientConfig,
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    /** The commands that change something, in order. */
    const actions = (runner: ScriptedRunner) =>
      runner.calls.map((c) => c.line).filter((l) => /^(npx|docker login|docker buildx build)/.test(l));

    const serverlessDeploy = (scheduleEnabled: boolean, zones = ['use1-az6', 'use1-az1', 'use1-az2']) =>
      [
        `npx serverless deploy --stage prod --region ${region}`,
        `--param dbtImageTag=${commit} --param scheduleEnabled=${scheduleEnabled}`,
        `--param subnetAzIdA=${zones[0]} --param subnetAzIdB=${zones[1]} --param subnetAzIdC=${zones[2]}`,
      ].join(' ');
    const uri = `123456789012.dkr.ecr.${region}.amazonaws.com/${repository}`;
    const login = 'docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const build = `docker buildx build --platform linux/arm64 --tag ${uri}:${commit} --push dbt/`;

    it('first deploy: the stack with the schedule off, the image tagged with the commit, then the schedule on', async () => {
      const runner = new ScriptedRunner(tools());
      const run = await deploy(runner);
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      expect(actions(runner)).toEqual([serverlessDeploy(false), login, build, serverlessDeploy(true)]);
      // Every prerequisite before anything is deployed.
      expect(runner.calls.slice(0, 4).map((c) => c.line)).toEqual([
        'docker buildx version',
        'docker buildx inspect --bootstrap',
        'git rev-parse --short=12 HEAD',
        'git status --porcelain',
      ]);
      expect(run.out).toContain('account 123456789012');
      // us-east-1e is use1-az3, which Redshift Serverless does not support: a, b, c are az6, az1, az2.
      expect(run.out).toContain('subnets in use1-az6, use1-az1, use1-az2');
      expect(run.out).toContain(
        `Deployed chartflow-prod: the dbt task runs ${uri}:${commit}, and the schedule is on.`,
      );
      // The password went through stdin, and nowhere else.
      expect(runner.calls.find((c) => c.line === login)!.input).toBe(mototokenPassword);
      expect(run.out).not.toContain(mototokenPassword);
      expect(runner.calls.filter((c) => c.line.includes(mototokenPassword))).toEqual([]);
    });

    it('re-deploy of a commit whose image is in ECR: one serverless deploy, schedule on, no build', async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
      await pushImage(commit);
      const runner = new ScriptedRunner(tools());
      const run = await deploy(runner);
      expect(run.code, run.err).toBe(0);
      expect(actions(runner)).toEqual([serverlessDeploy(true)]);
      expect(run.out).toContain(`The image ${uri}:${commit} is in ECR already`);
    });

    it('a new commit on a deployed stack: the image first, then one serverless deploy with the schedule on', async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
      await pushImage('0000aaaabbbb');
      const runner = new ScriptedRunner(tools());
      const run = await deploy(runner);
      expect(run.code, run.err).toBe(0);
      expect(actions(runner)).toEqual([login, build, serverlessDeploy(true)]);
    });

    it('refuses, before anything is deployed, a docker buildx that cannot build linux/arm64, saying how to install it', async () => {
      const runner = new ScriptedRunner(
        tools({
          buildx: (_, args) => ok(args[1] === 'version' ? 'github.com/docker/buildx v0.19.3' : amd64Builder),
        }),
      );
      const run = await deploy(runner);
      expect(run.code).toBe(1);
      expect(run.err).toBe(
        "deploy: docker buildx cannot build linux/arm64 here (its builder has linux/amd64, linux/amd64/v2, linux/386): install QEMU's arm64 emulation with `docker run --privileged --rm tonistiigi/binfmt --install arm64`, then run npm run deploy again",
      );
      expect(actions(runner)).toEqual([]);
    });

    it('refuses a machine without docker buildx, before anything is deployed', async () => {
      const runner = new ScriptedRunner(
        tools({
          buildx: () => ({ exitCode: 1, stdout: '', stderr: "docker: 'buildx' is not a docker command." }),
        }),
      );
      const run = await deploy(runner);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(
        /^deploy: docker buildx is not available: install Docker with its buildx plugin/,
      );
      expect(actions(runner)).toEqual([]);
    });

    it('fails a push whose image ECR then does not have, and leaves the schedule off', async () => {
      const runner = new ScriptedRunner(tools({ push: () => ok() }));
      const run = await deploy(runner);
      expect(run.code).toBe(1);
      expect(run.err).toBe(
        `deploy: docker pushed ${uri}:${commit}, but ECR has no image tagged ${commit} in ${repository}: the schedule stays off; run npm run deploy -- --stage prod --region ${region} again`,
      );
      expect(actions(runner)).toEqual([serverlessDeploy(false), login, build]);
    });

    it('stops at a failed serverless deploy, naming its exit code, and builds nothing', async () => {
      const script = tools();
      const runner = new ScriptedRunner((command, args, options) =>
        args[0] === 'serverless' ? { exitCode: 1, stdout: '', stderr: '' } : script(command, args, options),
      );
      const run = await deploy(runner);
      expect(run.code).toBe(1);
      expect(run.err).toBe('deploy: serverless deploy failed; its output above says why (npx exited with 1)');
      expect(actions(runner)).toEqual([serverlessDeploy(false)]);
    });

    it('refuses uncommitted changes unless --allow-dirty, which tags the image <commit>-dirty-<time>', async () => {
      const dirty = tools({ status: ' M dbt/models/marts/fct_chart_entry.sql\n?? notes.txt\n' });
      const refused = await deploy(new ScriptedRunner(dirty));
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(
        "deploy: the work tree has 2 uncommitted changes, such as dbt/models/marts/fct_chart_entry.sql: commit them, so that the image's tag names what it was built from, or pass --allow-dirty",
      );
      const runner = new ScriptedRunner(dirty);
      const run = await deploy(runner, ['--allow-dirty']);
      expect(run.code, run.err).toBe(0);
      expect(actions(runner)[0]).toContain(`--param dbtImageTag=${commit}-dirty-20261207T130405Z `);
    });

    it('takes the zones named with --param, checked against the account, and fills the rest', async () => {
      const runner = new ScriptedRunner(tools());
      const run = await deploy(runner, ['--param', 'subnetAzIdA=use1-az4', '--param', 'charts=global=abc']);
      expect(run.code, run.err).toBe(0);
      expect(actions(runner)[0]).toBe(
        serverlessDeploy(false, ['use1-az4', 'use1-az6', 'use1-az1']).replace(
          '--param dbtImageTag',
          '--param charts=global=abc --param dbtImageTag',
        ),
      );
      const unknown = await deploy(new ScriptedRunner(tools()), ['--param', 'subnetAzIdB=euw1-az1']);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toBe(
        'deploy: euw1-az1 is not an available zone of us-east-1 in this account (it has use1-az6, use1-az1, use1-az2, use1-az4, use1-az3, use1-az5)',
      );
    });

    it('refuses a region where Redshift Serverless supports fewer than three zones, before anything is deployed', async () => {
      const runner = new ScriptedRunner(tools());
      const out: string[] = [];
      const err: string[] = [];
      const code = await deployMain(['--stage', 'prod', '--region', 'us-west-1'], {
        root: process.cwd(),
        env: {},
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        now: () => new Date(),
        runner,
        aws: moto.clientConfig,
      });
      expect(code).toBe(1);
      expect(err).toEqual([
        'deploy: Redshift Serverless needs subnets in three zones, and us-west-1 has 2 it supports in this account (usw1-az3, usw1-az1): deploy to another region',
      ]);
      expect(actions(runner)).toEqual([]);
    });

    it('refuses params that are the deploy’s own to set', async () => {
      const run = await deploy(new ScriptedRunner(tools()), ['--param', 'scheduleEnabled=true']);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/dbtImageTag and scheduleEnabled are the deploy's to set/);
    });
  },
);
