import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../shared/config/config.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { LocalPipeline } from '../../infra/local/runtime.js';
import { stageRows } from '../support/pipeline.js';

/**
 * Ctrl-C and SIGKILL during dbt, then a rerun (docs/reliability.md, "Interrupted runs"): the CLI as
 * a user runs it, a child process in a fresh home on the sandbox, with real dbt. Before the fix, the
 * lock stayed and the rerun waited for its 3-hour TTL; after it, the rerun completes the day.
 */
const repo = path.resolve(import.meta.dirname, '../..');
const chartflow = path.join(repo, 'bin', 'chartflow.js');
const day = ['--date', '2026-08-01', '--chart', 'br'];
const exec = promisify(execFile);

/** The environment of a user without Spotify credentials: sandbox mode. */
const sandboxEnv = (home: string): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, CHARTFLOW_HOME: home };
  for (const name of Object.keys(env)) if (name.startsWith('SPOTIFY_')) delete env[name];
  return env;
};

interface Ended {
  readonly code: number | null;
  readonly stderr: string;
}

const start = (home: string): { child: ChildProcess; ended: Promise<Ended> } => {
  const child = spawn(process.execPath, [chartflow, 'run', ...day], {
    env: sandboxEnv(home),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const ended = new Promise<Ended>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, ended };
};

const runToEnd = (home: string): Promise<Ended> => start(home).ended;

/**
 * The dbt worker the CLI started (a child of the CLI's process), once its `dbt build` runs: the
 * worker starts early and parses the project (infra/adapters/embedded/dbt-worker.ts); only the
 * build logs its concurrency.
 */
const dbtBuilding = async (pid: number, home: string, deadline = Date.now() + 90_000): Promise<number> => {
  const log = path.join(home, 'dbt', 'logs', 'dbt.log');
  while (Date.now() < deadline) {
    const { stdout } = await exec('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).catch(() => ({
      stdout: '',
    }));
    const line = stdout.split('\n').find((l) => /dbt_worker\.py/.test(l));
    const building = existsSync(log) && (await readFile(log, 'utf8')).includes('Concurrency:');
    if (line && building) return Number(line.trim().split(/\s+/)[0]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no dbt build under process ${pid} within 90 s`);
};

const digest = async (home: string): Promise<string> =>
  (
    await exec(
      process.execPath,
      ['--import', 'tsx', 'test/support/mart-digest.ts', path.join(home, 'warehouse.duckdb')],
      {
        cwd: repo,
      },
    )
  ).stdout;

const records = async (home: string): Promise<RunRecord[]> => {
  const store = new FsObjectStore({ root: path.join(home, 'lake') });
  return new RunRecords(store).list({ chartDate: '2026-08-01', chartId: 'br' });
};

const stageRowsOf = async (home: string): Promise<number> => {
  const pipeline = await LocalPipeline.start({
    config: parseLocalConfig({ CHARTFLOW_HOME: home }),
    processEnv: process.env,
    recover: false,
  });
  try {
    return await stageRows(pipeline.warehouse);
  } finally {
    await pipeline.close();
  }
};

const lockFile = (home: string) => path.join(home, 'lake', 'control', 'locks', 'transform.json');

describe('Feature: a run interrupted during dbt, then run again', () => {
  const homes: string[] = [];
  const home = async (label: string) => {
    const made = await mkdtemp(path.join(tmpdir(), `chartflow-interrupted-${label}-`));
    homes.push(made);
    return made;
  };
  let uninterrupted: string;
  afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

  beforeAll(async () => {
    const clean = await home('clean');
    expect((await runToEnd(clean)).code).toBe(0);
    uninterrupted = await digest(clean);
  }, 180_000);

  it('Ctrl-C: stops dbt, exits 130 saying so, and the rerun ends as an uninterrupted run', async () => {
    const h = await home('sigint');
    const run = start(h);
    await dbtBuilding(run.child.pid!, h);
    run.child.kill('SIGINT');
    const stopped = await run.ended;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(
      /chartflow: interrupted: stopped dbt, cleaned the stage, 1 run recorded as interrupted; the next run completes it\./,
    );
    expect(existsSync(lockFile(h))).toBe(false);
    expect((await records(h)).map((r) => r.status)).toEqual(['interrupted']);

    const rerun = await runToEnd(h);
    expect(rerun.code).toBe(0);
    expect(await digest(h)).toBe(uninterrupted);
    expect(await stageRowsOf(h)).toBe(0);
    expect(existsSync(lockFile(h))).toBe(false);
    const after = await records(h);
    expect(after[0]).toMatchObject({ status: 'interrupted', reason: 'interrupted by SIGINT' });
    expect(after.slice(1).map((r) => r.status)).toEqual(after.slice(1).map(() => 'succeeded'));
  }, 240_000);

  it('SIGKILL of the CLI and its dbt: the rerun takes the dead lock over at once and ends as an uninterrupted run', async () => {
    const h = await home('sigkill');
    const run = start(h);
    const dbt = await dbtBuilding(run.child.pid!, h);
    run.child.kill('SIGKILL');
    process.kill(dbt, 'SIGKILL');
    await run.ended;
    const left = JSON.parse(await readFile(lockFile(h), 'utf8')) as { pid: number; batchId: string };
    expect(left.pid).toBe(run.child.pid);

    const started = Date.now();
    const rerun = await runToEnd(h);
    // Before the fix it waited for the lock's 3-hour TTL; now it is a couple of dbt builds.
    expect(Date.now() - started).toBeLessThan(180_000);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(
      `released the transform lock of batch ${left.batchId}: its process ${left.pid} (chartflow run, since`,
    );
    expect(await digest(h)).toBe(uninterrupted);
    expect(await stageRowsOf(h)).toBe(0);
    expect(existsSync(lockFile(h))).toBe(false);
    const after = await records(h);
    expect(after[0]).toMatchObject({ status: 'interrupted' });
    expect(after[0]!.reason).toMatch(/process gone/);
    expect(after.slice(1).map((r) => r.status)).toEqual(after.slice(1).map(() => 'succeeded'));
  }, 360_000);
});
