import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { promisify } from 'node:util';
import { DbtWorker } from '../../../../infra/adapters/embedded/dbt-worker.js';
import { LocalDbtRunner } from '../../../../infra/adapters/embedded/local-dbt-runner.js';
import { systemClock } from '../../../../shared/ports/clock.js';

const execFileAsync = promisify(execFile);

/**
 * The worker's Node side against a stand-in for its Python side that speaks the same protocol
 * (requests on stdin, answers on fd 3, each command's output ended by a line of its own on stdout
 * and stderr): it prints what it was asked, with its pid, and answers with the exit code its first
 * argument names. `die` kills itself mid-command; `loud` writes 20,000 lines and a last one on
 * stderr, and fails; `late` answers before it has written all of stdout's end-of-output line. The
 * real worker runs in every end-to-end test (test/e2e), and is interrupted in
 * test/e2e/interrupted-runs.test.ts.
 */
const standIn = `
import json, os, signal, sys, time
answers = os.fdopen(3, "w")

def answer(request, code):
    answers.write(json.dumps({"id": request["id"], "exitCode": code}) + "\\n")
    answers.flush()

for line in sys.stdin:
    request = json.loads(line)
    args = request.get("args", [])
    first = args[0] if args else "0"
    if first == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    print(f"pid={os.getpid()} {request['command']} {' '.join(args)} env={json.dumps(request.get('env', {}))}", flush=True)
    if first == "loud":
        for n in range(20000):
            print(f"line {n} of the output", flush=True)
        print("why it failed", file=sys.stderr, flush=True)
    end = f"\\x1edone {request['id']}\\x1e\\n".encode()
    os.write(2, end)
    if first == "late":
        os.write(1, end[:4])
        answer(request, 1)
        time.sleep(0.2)
        os.write(1, end[4:])
        continue
    os.write(1, end)
    answer(request, int(first) if first.isdigit() else 1)
`;

describe('Class: DbtWorker', () => {
  let folder: string;
  let worker: DbtWorker;

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-worker-'));
    await writeFile(path.join(folder, 'stand_in.py'), standIn);
    worker = new DbtWorker({
      python: 'python3',
      script: path.join(folder, 'stand_in.py'),
      env: { PATH: process.env.PATH },
      maxOutputLength: 64 * 1024,
      workDir: folder,
    });
  });
  afterEach(async () => {
    await worker.close();
    await rm(folder, { recursive: true, force: true });
  });

  const pidOf = (output: string) => /pid=(\d+)/.exec(output)?.[1];

  it('runs the commands in the order asked, in one process, each with its own output and exit code', async () => {
    const [parsed, first, second] = await Promise.all([
      worker.parse(['0']),
      worker.build(['1', '--select', 'a'], ['0'], { CHARTFLOW_BATCH_ID: 'batch-1' }),
      worker.build(['0'], ['0'], { CHARTFLOW_BATCH_ID: 'batch-2' }),
    ]);
    expect(parsed).toMatchObject({ code: 0, signal: null });
    expect(first).toMatchObject({ code: 1, signal: null });
    expect(first.output).toContain('build 1 --select a env={"CHARTFLOW_BATCH_ID": "batch-1"}');
    expect(first.output).not.toContain('batch-2');
    expect(second).toMatchObject({ code: 0 });
    expect(second.output).toContain('"CHARTFLOW_BATCH_ID": "batch-2"');
    expect(new Set([parsed, first, second].map((r) => pidOf(r.output))).size).toBe(1);
  });

  it("keeps a command's output to its last line, though the answer comes on a pipe of its own", async () => {
    // The answer, a few bytes on fd 3, is read before the last of 20,000 lines on stdout unless
    // the worker waits for the end-of-output lines.
    for (let run = 0; run < 5; run++) {
      const loud = await worker.build(['loud'], ['0'], {});
      expect(loud.code).toBe(1);
      expect(loud.output).toMatch(/line 19999 of the output\n/);
      expect(loud.output).toContain('why it failed');
      expect(loud.output).not.toContain('\x1e');
      const next = await worker.build(['0'], ['0'], {});
      expect(next.output).not.toContain('line 19999');
    }
  });

  it('waits for the end of the output when the answer comes first', async () => {
    const late = await worker.build(['late'], ['0'], {});
    expect(late.code).toBe(1);
    expect(late.output).toContain('build late');
    expect(late.output).not.toContain('\x1e');
    const next = await worker.build(['0'], ['0'], {});
    expect(next.output).toMatch(/^pid=\d+ build 0 env=\{\}\n$/);
  });

  it('fails the command under way when the worker dies, and starts a new worker for the next', async () => {
    const before = await worker.parse(['0']);
    const killed = await worker.build(['die'], ['0'], {});
    expect(killed).toMatchObject({ code: null, signal: 'SIGKILL' });
    const after = await worker.build(['0'], ['0'], {});
    expect(after.code).toBe(0);
    expect(pidOf(after.output)).not.toBe(pidOf(before.output));
  });

  it('keeps Node running while a command is under way, and not once the worker is idle', async () => {
    // A process that asks for a slow command and then forgets the worker: it must wait for the
    // command, and then end on its own (the worker with it, its stdin closed).
    const slow = path.join(folder, 'slow.py');
    await writeFile(
      slow,
      standIn.replace('for line in sys.stdin:', 'import time\nfor line in sys.stdin:\n    time.sleep(1)'),
    );
    const script = `
      import { DbtWorker } from ${JSON.stringify(path.resolve('infra/adapters/embedded/dbt-worker.ts'))};
      const worker = new DbtWorker({ python: 'python3', script: ${JSON.stringify(slow)}, env: { PATH: process.env.PATH }, maxOutputLength: 1024, workDir: 'x' });
      const exit = await worker.parse(['0']);
      console.log('answered', exit.code);
    `;
    const started = Date.now();
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 20_000,
      },
    );
    expect(stdout.trim()).toBe('answered 0');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('keeps Node running until the worker has exited on close, when nothing else holds it', async () => {
    // A process with nothing but the worker (a CLI against a real Spotify: no sandbox thread)
    // closes it after a command: Node must wait for the exit, not end with close() unsettled (13).
    const slowExit = path.join(folder, 'slow_exit.py');
    await writeFile(slowExit, `${standIn}\nimport time\ntime.sleep(1)\n`);
    const script = `
      import { DbtWorker } from ${JSON.stringify(path.resolve('infra/adapters/embedded/dbt-worker.ts'))};
      const worker = new DbtWorker({ python: 'python3', script: ${JSON.stringify(slowExit)}, env: { PATH: process.env.PATH }, maxOutputLength: 1024, workDir: 'x' });
      await worker.parse(['0']);
      await worker.close();
      console.log('closed');
    `;
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('closed');
  });

  it('starts its process before any command, and stops one never asked anything at once on close', async () => {
    // dbt's import is slow: a worker started early (a command that may not transform after all)
    // must not hold the command's end until the import is done.
    const slowImport = path.join(folder, 'slow_import.py');
    await writeFile(slowImport, `import time\ntime.sleep(30)\n${standIn}`);
    const early = new DbtWorker({
      python: 'python3',
      script: slowImport,
      env: { PATH: process.env.PATH },
      workDir: folder,
    });
    early.start();
    const { stdout } = await execFileAsync('ps', ['-eo', 'args']);
    expect(stdout).toContain(slowImport);
    const started = Date.now();
    await early.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    const after = await execFileAsync('ps', ['-eo', 'args']);
    expect(after.stdout).not.toContain(slowImport);
  });

  it('ends the worker on close, once the commands asked have run', async () => {
    const build = worker.build(['0'], ['0'], {});
    await worker.close();
    expect((await build).code).toBe(0);
  });
});

describe('Class: LocalDbtRunner, stopped (Ctrl-C) before any build', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'chartflow-dbt-runner-'));
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  it('ends the warm-up parse at once instead of waiting for it', async () => {
    const slow = path.join(folder, 'slow.py');
    await writeFile(
      slow,
      standIn.replace('for line in sys.stdin:', 'import time\nfor line in sys.stdin:\n    time.sleep(30)'),
    );
    const runner = new LocalDbtRunner({
      projectDir: folder,
      worker: new DbtWorker({
        python: 'python3',
        script: slow,
        env: { PATH: process.env.PATH },
        workDir: folder,
      }),
      target: 'duckdb',
      workDir: folder,
      clock: systemClock,
      onStopped: () => undefined,
    });
    runner.warm();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    expect(await runner.stop('SIGINT')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
