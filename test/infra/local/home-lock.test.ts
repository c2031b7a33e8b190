import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeLock, homeLockName, type HomeLockHolder } from '../../../infra/local/home-lock.js';
import { LockWaitTimeoutError } from '../../../shared/errors.js';

const child = fileURLToPath(new URL('./home-lock-child.ts', import.meta.url));

/** A child process that holds the home (or races for it), driven through stdin. */
const startChild = (home: string, name: string, mode: 'hold' | 'exit' | 'forever') => {
  const process_ = spawn(process.execPath, ['--import', 'tsx', child, home, name, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  process_.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter(Boolean));
    for (const wake of waiters.splice(0)) wake();
  });
  const line = async (index: number): Promise<string> => {
    while (lines.length <= index) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines[index]!;
  };
  const exited = new Promise<number | null>((resolve) => process_.on('exit', (code) => resolve(code)));
  return { process: process_, line, exited };
};

/** The PID of a process that has ended: what a holder killed by SIGKILL leaves in its lock. */
const deadPid = async (): Promise<number> => {
  const ended = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => ended.on('exit', resolve));
  return ended.pid!;
};

const holder = (pid: number, overrides: Partial<HomeLockHolder> = {}): HomeLockHolder => ({
  pid,
  host: hostname(),
  command: 'chartflow run --date 2026-06-01',
  since: '2026-06-01T06:30:00.000Z',
  ...overrides,
});

describe('Function: HomeLock, one writer per home', () => {
  let home: string;
  let lockFile: string;
  let notes: string[];
  const acquire = (waitMs: number, command = 'chartflow backfill --from 2026-06-01') =>
    HomeLock.acquire({ home, command, waitMs, note: (t) => notes.push(t), pollMs: 50 });

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-home-lock-'));
    lockFile = path.join(home, homeLockName);
    notes = [];
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('takes a free home at once, writing its PID, host, command and since when, and gives it back', async () => {
    const lock = await acquire(0, 'chartflow run --date 2026-06-01');

    const written = JSON.parse(await readFile(lockFile, 'utf8')) as HomeLockHolder;
    expect(written).toEqual({
      pid: process.pid,
      host: hostname(),
      command: 'chartflow run --date 2026-06-01',
      since: lock.holder.since,
    });
    expect(Date.now() - Date.parse(written.since)).toBeLessThan(60_000);
    expect(notes).toEqual([]);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses at once with --wait 0 while a live process holds it, naming its PID and command', async () => {
    const first = await acquire(0, 'chartflow run --date 2026-06-01');

    const refused = await acquire(0).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(LockWaitTimeoutError);
    expect((refused as Error).message).toContain(
      `the home ${home} is held by chartflow run --date 2026-06-01 (PID ${process.pid}) since `,
    );
    expect((refused as Error).message).toContain('did not wait (--wait 0), nothing was written');
    expect(notes).toEqual([]);
    // The refused one did not touch the holder's lock.
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toEqual(first.holder);
    await first.release();
  });

  it('waits up to --wait, saying once for whom, then gives up', async () => {
    const first = await acquire(0, 'chartflow run --date 2026-06-01');
    const started = performance.now();

    const refused = await acquire(600).catch((error: unknown) => error);

    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    expect(refused).toBeInstanceOf(LockWaitTimeoutError);
    expect((refused as Error).message).toContain('gave up after 1 s');
    expect(notes).toEqual([
      `chartflow: waiting for the home ${home}: chartflow run --date 2026-06-01 (PID ${process.pid}) holds it since ${first.holder.since.replace(/\.\d+Z$/, 'Z')}; giving up after 1 s`,
    ]);
    await first.release();
  });

  it('gets the home as soon as its holder gives it back within --wait', async () => {
    const first = await acquire(0, 'chartflow run --date 2026-06-01');
    setTimeout(() => void first.release(), 300);

    const second = await acquire(10_000);

    expect(notes).toHaveLength(1);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toEqual(second.holder);
    await second.release();
  });

  it('takes over at once a lock whose process is dead on this host, with a line saying so', async () => {
    const pid = await deadPid();
    await writeFile(lockFile, JSON.stringify(holder(pid)));
    const started = performance.now();

    const lock = await acquire(60_000);

    expect(performance.now() - started).toBeLessThan(5_000);
    expect(lock.holder.pid).toBe(process.pid);
    expect(notes).toEqual([
      `chartflow: the home ${home} was held by chartflow run --date 2026-06-01 (PID ${pid}) since 2026-06-01T06:30:00Z, which is no longer running: taking it over`,
    ]);
    await lock.release();
  });

  it('waits for a holder on another host, whose liveness this machine cannot tell, and names the host', async () => {
    await writeFile(lockFile, JSON.stringify(holder(await deadPid(), { host: 'elsewhere' })));

    const refused = await acquire(0).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(LockWaitTimeoutError);
    expect((refused as Error).message).toMatch(
      /held by chartflow run --date 2026-06-01 \(PID \d+ on elsewhere\)/,
    );
  });

  it('does not take over a file it cannot read as a lock, and says which file to remove', async () => {
    await writeFile(lockFile, 'not json');

    const refused = await acquire(0).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(LockWaitTimeoutError);
    expect((refused as Error).message).toContain(
      `a lock file that is not chartflow's (${lockFile}: remove it if no chartflow command is running)`,
    );
    expect(await readFile(lockFile, 'utf8')).toBe('not json');
  });

  it('never deletes a lock that is no longer its own', async () => {
    const lock = await acquire(0);
    const other = JSON.stringify(holder(process.pid, { command: 'chartflow run --date 2026-06-02' }));
    await writeFile(lockFile, other);

    await lock.release();

    expect(await readFile(lockFile, 'utf8')).toBe(other);
  });

  it("is released by the process's 'exit' event when the process ends without releasing it", async () => {
    const holderProcess = startChild(home, 'exit', 'exit');
    expect(await holderProcess.line(0)).toBe('ready');
    holderProcess.process.stdin.write('go\n');

    expect(await holderProcess.line(1)).toBe('won');
    expect(await holderProcess.exited).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('is left behind by a killed holder, and taken over by the next writer', async () => {
    const killed = startChild(home, 'killed', 'forever');
    expect(await killed.line(0)).toBe('ready');
    killed.process.stdin.write('go\n');
    expect(await killed.line(1)).toBe('won');
    expect(await acquire(0).catch((error: unknown) => error)).toBeInstanceOf(LockWaitTimeoutError);

    killed.process.kill('SIGKILL');
    await killed.exited;
    expect(existsSync(lockFile)).toBe(true);
    const lock = await acquire(0);

    expect(notes.at(-1)).toContain(`racer killed (PID ${killed.process.pid}) since`);
    expect(notes.at(-1)).toContain('which is no longer running: taking it over');
    await lock.release();
  });

  it.each([1, 2, 3, 4, 5])(
    'lets exactly one of 8 processes take over the same dead holder (round %i)',
    async () => {
      await writeFile(lockFile, JSON.stringify(holder(await deadPid())));
      const racers = Array.from({ length: 8 }, (_, i) => startChild(home, String(i), 'hold'));
      for (const racer of racers) expect(await racer.line(0)).toBe('ready');

      for (const racer of racers) racer.process.stdin.write('go\n');
      const outcomes = await Promise.all(racers.map((racer) => racer.line(1)));

      expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'lost LockWaitTimeoutError')).toHaveLength(7);
      const winner = outcomes.indexOf('won');
      const written = JSON.parse(await readFile(lockFile, 'utf8')) as HomeLockHolder;
      expect(written).toMatchObject({ pid: racers[winner]!.process.pid, command: `racer ${winner}` });
      for (const racer of racers) racer.process.stdin.end();
      expect(await Promise.all(racers.map((r) => r.exited))).toEqual(racers.map(() => 0));
      expect(existsSync(lockFile)).toBe(false);
    },
    60_000,
  );
});
