import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const serverless = path.join(root, 'node_modules', '.bin', 'serverless');

type Json = Record<string, unknown>;

/** A resource of the compiled template. */
export interface TemplateResource {
  Type: string;
  // A template is free-form JSON; the assertions read it by path and check what they find.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Properties: Json & Record<string, any>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** The CloudFormation template `serverless package` compiles. */
export interface CompiledTemplate {
  Parameters: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs: Record<string, unknown>;
}

const lockFile = path.join(root, '.serverless-package.lock');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Runs `work` while no other test process packages this checkout: serverless-esbuild builds in the
 * project's own `.esbuild/` folder, so two packagings at once (test files run in parallel) can
 * remove each other's build. The lock is a file holding its owner's PID; one whose owner is gone
 * is taken over.
 */
const oneAtATime = async <T>(work: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => ''));
      if (owner > 0 && !alive(owner)) await rm(lockFile, { force: true });
      if (Date.now() > deadline) throw new Error(`serverless package: ${lockFile} held for 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
};

/**
 * Runs `serverless package` (osls) offline for a stage into a new folder, and reads the template
 * it compiled and the stack parameters a deploy would pass it (serverless.yml's
 * `provider.stackParameters`, resolved). Packaging needs no AWS account: the credentials are fake,
 * so that it could never reach a real one.
 */
export const packageServerless = async (
  stage = 'test',
): Promise<{ dir: string; template: CompiledTemplate; stackParameters: Record<string, string> }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chartflow-package-'));
  await oneAtATime(() =>
    run(serverless, ['package', '--stage', stage, '--package', dir], {
      cwd: root,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_SESSION_TOKEN: 'testing',
        AWS_PROFILE: '',
        AWS_EC2_METADATA_DISABLED: 'true',
        SLS_TELEMETRY_DISABLED: '1',
      },
      maxBuffer: 16 * 1024 * 1024,
    }),
  );
  const template = JSON.parse(
    await readFile(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as CompiledTemplate;
  const state = JSON.parse(await readFile(path.join(dir, 'serverless-state.json'), 'utf8')) as {
    service: { provider: { stackParameters?: { ParameterKey: string; ParameterValue: string }[] } };
  };
  const stackParameters = Object.fromEntries(
    (state.service.provider.stackParameters ?? []).map((p) => [p.ParameterKey, String(p.ParameterValue)]),
  );
  return { dir, template, stackParameters };
};
