import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..', '..', '..');

/** `npm run deploy -- …` as a user types it, with no AWS credentials or region in its environment. */
const npmRunDeploy = async (args: readonly string[]) => {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  try {
    const { stdout, stderr } = await exec('npm', ['run', '--silent', 'deploy', '--', ...args], {
      cwd: root,
      env,
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('npm run deploy -- --dry-run (no AWS account)', () => {
  it('packages the stack, lints the template and the Dockerfile, chooses the zones and prints the plan', async () => {
    const run = await npmRunDeploy(['--dry-run', '--stage', 'ci', '--region', 'eu-west-1']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const tag = /^ {2}tag ([0-9a-f]{12}(-dirty-\d{8}T\d{6}Z)?)$/m.exec(run.stdout)?.[1];
    expect(tag, run.stdout).toBeDefined();
    // Each step in its order, said in one line.
    const steps = [
      'Dry run for chartflow-ci in eu-west-1: no AWS account is used',
      'Tagging the image with the commit',
      "Choosing three zones Redshift Serverless supports in eu-west-1 (from AWS's list)",
      'Linting dbt/Dockerfile (hadolint)',
      'Linting the template (cfn-lint)',
      'Dry run passed.',
    ];
    const at = steps.map((step) => lines.findIndex((l) => l === step || l.startsWith(step)));
    expect(
      at.every((i) => i >= 0),
      run.stdout,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(run.stdout).toContain('  subnets in euw1-az1, euw1-az2, euw1-az3');
    expect(run.stdout).toContain('  $ .venv-moto/bin/hadolint --failure-threshold info dbt/Dockerfile');
    expect(run.stdout).toMatch(
      new RegExp(
        `\\$ npx serverless package --stage ci --region eu-west-1 --param dbtImageTag=${tag} --param scheduleEnabled=false --param subnetAzIdA=euw1-az1 --param subnetAzIdB=euw1-az2 --param subnetAzIdC=euw1-az3 --package /`,
      ),
    );
    expect(run.stdout).toContain('  the template receives the image tag, the schedule and the three zones');
    expect(run.stdout).toMatch(/^ {2}no error \(\d+ warning\(s\) or note\(s\)\)$/m);
    // The plan: both deploys, the build for arm64 with the commit's tag, the login through stdin.
    expect(run.stdout).toContain(
      `  npx serverless deploy --stage ci --region eu-west-1 --param dbtImageTag=${tag} --param scheduleEnabled=true`,
    );
    expect(run.stdout).toContain(
      `  docker buildx build --platform linux/arm64 --tag '<account>.dkr.ecr.eu-west-1.amazonaws.com/chartflow-ci-dbt:${tag}' --push dbt/`,
    );
    expect(run.stdout).toContain('docker login --username AWS --password-stdin <registry>');
  }, 300_000);

  it('refuses a region where Redshift Serverless supports fewer than three zones', async () => {
    const run = await npmRunDeploy(['--dry-run', '--region', 'us-west-1']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'deploy: Redshift Serverless needs subnets in three zones, and us-west-1 has 2 it supports (usw1-az1, usw1-az3): deploy to another region',
    );
    expect(run.stdout).not.toContain('Packaging the stack');
  });

  it('refuses a region Redshift Serverless is not known to run in, and no region at all', async () => {
    const unknown = await npmRunDeploy(['--dry-run', '--region', 'xx-north-9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^deploy: xx-north-9 is not a region where Redshift Serverless is known to run .*name its three zones with --param subnetAzIdA=…/,
    );
    const none = await npmRunDeploy(['--dry-run']);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(
      'deploy: no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION',
    );
  });

  it('refuses a malformed --param and an unknown option, naming them', async () => {
    const param = await npmRunDeploy(['--dry-run', '--region', 'eu-west-1', '--param', 'charts']);
    expect(param.code).toBe(1);
    expect(param.stderr).toMatch(
      /^deploy: npm run deploy: the options: .*must be name=value.* → at param\[0\]/,
    );
    const option = await npmRunDeploy(['--dry-rn']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--dry-rn'");
  });
});
