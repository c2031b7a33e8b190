import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { median } from './measure.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

/** One function's package: its zip's size and its module initialisation time on Node 22. */
export interface LambdaBundle {
  readonly name: string;
  readonly zipBytes: number;
  readonly initMs: number;
  readonly runs: number;
}

/**
 * The Node.js of the Lambda runtime (nodejs22.x), from the npm package `node@22` through npx: its
 * binary's path, found once.
 */
const node22 = async (): Promise<string> => {
  const { stdout } = await run('npx', ['--yes', '-p', 'node@22', '-c', 'command -v node'], {
    cwd: tmpdir(),
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout.trim().split('\n').at(-1)!;
};

/**
 * Packages the functions as a deploy would (`serverless package`, offline), then measures each
 * bundle: the zip's size, and the time its module takes to load and initialise on Node 22 in a
 * fresh process (what a cold start adds for our code), as the median of `runs` processes.
 */
export const measureLambdaBundles = async (runs = 20): Promise<LambdaBundle[]> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chartflow-bench-package-'));
  try {
    await run(
      path.join(root, 'node_modules', '.bin', 'serverless'),
      ['package', '--stage', 'bench', '--package', dir],
      {
        cwd: root,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'bench',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_EC2_METADATA_DISABLED: 'true',
          SLS_TELEMETRY_DISABLED: '1',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const node = await node22();
    const bundles: LambdaBundle[] = [];
    for (const zip of (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort()) {
      const name = zip.replace(/\.zip$/, '');
      const unpacked = path.join(dir, name);
      await run('unzip', ['-q', '-o', path.join(dir, zip), '-d', unpacked]);
      const [entry] = (await readdir(path.join(unpacked, 'infra', 'aws', 'functions'))).filter((f) =>
        f.endsWith('.mjs'),
      );
      const url = pathToFileURL(path.join(unpacked, 'infra', 'aws', 'functions', entry!)).href;
      const script = `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t));`;
      const times: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        // No environment but the path: loading a bundle reads none (its handler does, when called).
        const { stdout } = await run(node, ['--input-type=module', '-e', script], {
          env: { PATH: process.env.PATH },
        });
        times.push(Number(stdout));
      }
      bundles.push({ name, zipBytes: (await stat(path.join(dir, zip))).size, initMs: median(times), runs });
    }
    return bundles;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
