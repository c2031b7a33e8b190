import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeLockName } from '../../infra/local/home-lock.js';

const bin = fileURLToPath(new URL('../../bin/chartflow.js', import.meta.url));
const day = ['--date', '2026-08-01', '--chart', 'br'];

/** How a `chartflow` child process ended, and how long it took from its start. */
interface Ended {
  readonly pid: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** From its line saying that it waits for the home to its exit, when it said so. */
  readonly secondsAfterWaiting: number | undefined;
}

/**
 * `node bin/chartflow.js <args>` on a home, as a user runs it. A child still running after
 * `limitSeconds` is killed (code null): without the home lock, a second writer could wait for hours.
 */
const chartflow = (
  home: string,
  args: readonly string[],
  limitSeconds = 420,
  env: Readonly<Record<string, string>> = {},
) => {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, CHARTFLOW_HOME: home, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let waitingSince: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (waitingSince === undefined && stderr.includes('waiting for the home'))
      waitingSince = performance.now();
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000);
  const ended = new Promise<Ended>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(limit);
      const now = performance.now();
      resolve({
        pid: child.pid!,
        code,
        stdout,
        stderr,
        seconds: (now - started) / 1000,
        secondsAfterWaiting: waitingSince === undefined ? undefined : (now - waitingSince) / 1000,
      });
    }),
  );
  return { pid: child.pid!, ended };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every run id the lake names anywhere (claims, run records, markers, manifests). */
const runIdsInLake = async (home: string): Promise<Set<string>> => {
  const lake = path.join(home, 'lake');
  const files = (await readdir(lake, { recursive: true })).map(String);
  const ids = new Set(files.flatMap((file) => [...file.matchAll(/run=([^/.]+)/g)].map((m) => m[1]!)));
  for (const manifest of files.filter((file) => file.endsWith('manifest.json'))) {
    ids.add((JSON.parse(await readFile(path.join(lake, manifest), 'utf8')) as { runId: string }).runId);
  }
  return ids;
};

/** The run id of a `run --json` that succeeded. */
const runIdOf = (ended: Ended) => (JSON.parse(ended.stdout) as { runId: string }).runId;

/**
 * What the second writer must show: exit 2 within its --wait (2 s) of saying that it waits, with
 * a generous margin for a busy machine, its stderr naming the first's PID and command, and nothing
 * of it in the lake. (Without the home lock it ran a whole day, or waited hours for the transform.)
 */
const expectRefused = async (home: string, first: Ended, second: Ended) => {
  expect(first.code, first.stderr).toBe(0);
  expect(second.code, second.stderr).toBe(2);
  expect(second.secondsAfterWaiting).toBeGreaterThanOrEqual(1.5);
  expect(second.secondsAfterWaiting).toBeLessThan(2 + 10);
  expect(second.seconds).toBeLessThan(first.seconds);
  expect(second.stderr).toContain(
    `held by chartflow run --date 2026-08-01 --chart br --json --wait 2 (PID ${first.pid}) since `,
  );
  expect(second.stderr).toContain('gave up after 2 s, nothing was written');
  expect(second.stdout).toBe('');
  expect([...(await runIdsInLake(home))]).toEqual([runIdOf(first)]);
  expect(existsSync(path.join(home, homeLockName))).toBe(false);
};

describe('Two writers on one home (sandbox, real child processes)', () => {
  const homes: string[] = [];
  const freshHome = async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-two-writers-'));
    homes.push(home);
    return home;
  };
  afterAll(() => Promise.all(homes.map((home) => rm(home, { recursive: true, force: true }))));

  describe('started together', () => {
    let home: string;
    let both: Ended[];

    beforeAll(async () => {
      home = await freshHome();
      const args = ['run', ...day, '--json', '--wait', '2'];
      both = await Promise.all([chartflow(home, args).ended, chartflow(home, args).ended]);
    }, 600_000);

    it('one succeeds; the other exits 2 within its --wait, naming the first, having written nothing', async () => {
      const [first, second] = both[0]!.code === 0 ? both : [both[1]!, both[0]!];
      await expectRefused(home, first!, second!);
    });

    it('a lock left by a dead process is taken over at once, with a line saying so', async () => {
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => dead.on('exit', resolve));
      const since = '2026-08-01T06:30:00.000Z';
      const command = 'chartflow backfill --from 2026-07-01 --to 2026-08-01';
      await writeFile(
        path.join(home, homeLockName),
        JSON.stringify({ pid: dead.pid, host: hostname(), command, since }),
      );

      // The default --wait is a minute: taken over, the replay does not wait for it.
      const replay = await chartflow(home, ['replay', ...day]).ended;

      expect(replay.code, replay.stderr).toBe(0);
      expect(replay.stderr).toContain(
        `chartflow: the home ${home} was held by ${command} (PID ${dead.pid}) since 2026-08-01T06:30:00Z, which is no longer running: taking it over`,
      );
      expect(replay.stderr).not.toContain('waiting for the home');
      expect(existsSync(path.join(home, homeLockName))).toBe(false);
    }, 480_000);
  });

  describe('started 4 s apart', () => {
    let home: string;
    let first: Ended;
    let second: Ended;
    let status: Ended;
    let heldDuringStatus: boolean;

    beforeAll(async () => {
      home = await freshHome();
      // The first must still hold the home when the second gives up, 6 s after the first started,
      // however quick the machine: one Spotify request every 3 s makes its day take 9 s and more.
      const firstRun = chartflow(home, ['run', ...day, '--json', '--wait', '2'], 420, {
        SPOTIFY_RATE_LIMIT: '1/3',
      });
      await sleep(4_000);
      const secondRun = chartflow(home, ['run', ...day, '--json', '--wait', '2']);
      // status only reads: it neither waits for the writer nor takes the home from it.
      status = await chartflow(home, ['status'], 120).ended;
      heldDuringStatus = existsSync(path.join(home, homeLockName));
      [first, second] = await Promise.all([firstRun.ended, secondRun.ended]);
    }, 600_000);

    it('the first succeeds; the second exits 2 within its --wait, naming the first, having written nothing', async () => {
      await expectRefused(home, first, second);
    });

    it('status works while the writer holds the home, without waiting for it', () => {
      expect(heldDuringStatus).toBe(true);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(path.join(home, 'lake'));
      expect(status.stderr).not.toContain('home');
    });
  });
});
