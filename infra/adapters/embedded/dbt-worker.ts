import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import * as z from 'zod';

/** The project's dbt virtualenv's Python, and the worker's Python side in the checkout. */
export const dbtWorkerPaths = (projectRoot: string): { python: string; workerScript: string } => ({
  python: path.join(projectRoot, '.venv', 'bin', 'python'),
  workerScript: path.join(projectRoot, 'infra', 'adapters', 'embedded', 'dbt_worker.py'),
});

/** What one dbt command left: its exit code (or the signal that stopped the worker), and its output's tail. */
export interface DbtExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

export interface DbtWorkerOptions {
  /** The Python of the project's dbt virtualenv. */
  readonly python: string;
  /** The worker script ({@link dbtWorkerPaths}). */
  readonly script: string;
  /** The worker's environment: the profile's variables and what a process needs (PATH, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How much of dbt's output to keep per command (its last lines say why it failed); 64 KiB unless told. */
  readonly maxOutputLength?: number;
  /**
   * dbt's folder for this home, named in the worker's arguments (it reads nothing from them), so
   * that `ps` tells apart the workers of several homes.
   */
  readonly workDir: string;
}

const answerSchema = z.object({ id: z.number().int(), exitCode: z.number().int() });

/** The one command under way: its id, and what settles it. */
interface Pending {
  readonly id: number;
  readonly settle: (exit: Omit<DbtExit, 'output'>) => void;
  /** The worker's answer, held until stdout and stderr have both ended the command's output. */
  answer?: Omit<DbtExit, 'output'>;
}

/**
 * The line the worker ends each command's output with, on stdout and on stderr, before it answers
 * (dbt_worker.py, `end_of_output`): the three pipes are read in no set order, and an answer that
 * overtook the output would lose why dbt failed.
 */
// eslint-disable-next-line no-control-regex -- the record separator is the line's mark
const endOfOutput = /\x1edone (\d+)\x1e\n/g;

/**
 * A dbt that stays up for the life of one chartflow command (infra/adapters/embedded/dbt_worker.py):
 * dbt's start (about 1.8 s here) and the project's parse are paid once, not on every build, and
 * {@link warm} pays them while the days are still being loaded. Commands run one at a time, in the
 * order asked. The worker leads a process group of its own, so that Ctrl-C in a terminal reaches
 * only chartflow, which then stops it ({@link signal}). A worker that dies (a signal, a crash)
 * fails the command under way, and the next command starts a new one.
 */
export class DbtWorker {
  #child: ChildProcess | undefined;
  #pending: Pending | undefined;
  #output = '';
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DbtWorkerOptions) {}

  /**
   * Starts the worker's process now, if it is not running, so that dbt's import (most of its
   * start) runs while the caller does other work; the first command would start it otherwise.
   */
  start(): void {
    this.#child ??= this.#start();
  }

  /** Parses the project (dbt's `parse` arguments): the manifest every later build starts from. */
  parse(args: readonly string[]): Promise<DbtExit> {
    return this.#enqueue({ command: 'parse', args });
  }

  /**
   * `dbt build` with `args`; `parseArgs` parse the project first if no parse has succeeded yet.
   * `env` is in the environment for this build only.
   */
  build(
    args: readonly string[],
    parseArgs: readonly string[],
    env: Readonly<Record<string, string>>,
  ): Promise<DbtExit> {
    return this.#enqueue({ command: 'build', args, parseArgs, env });
  }

  /** Sends `signal` to the worker's process group (dbt's threads and adapters stop with it). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Ended in between: nothing to stop.
    }
  }

  /**
   * Ends the worker once the commands asked have run; resolves when it has exited. A worker that
   * was started and never asked anything is stopped at once, not left to finish dbt's import.
   */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    // Waiting for it to exit is work: held, or a Node with nothing else to do (no sandbox, a real
    // Spotify) would end first, with this promise unsettled (exit code 13).
    holdOpen(child, true);
    (child.stdin as Writable).end();
    if (this.#nextId === 1) this.signal('SIGTERM');
    await exited;
  }

  #enqueue(request: Record<string, unknown>): Promise<DbtExit> {
    const run = this.#queue.then(() => this.#send(request));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #send(request: Record<string, unknown>): Promise<DbtExit> {
    const child = this.#child ?? this.#start();
    const id = this.#nextId++;
    this.#output = '';
    holdOpen(child, true);
    return new Promise<DbtExit>((resolve) => {
      this.#pending = {
        id,
        settle: (exit) => {
          this.#pending = undefined;
          holdOpen(child, false);
          resolve({ ...exit, output: this.#output });
        },
      };
      (child.stdin as Writable).write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  #start(): ChildProcess {
    const { python, script, env, maxOutputLength = 64 * 1024, workDir } = this.options;
    const child = spawn(python, [script, '--work-dir', workDir], {
      // dbt would try to send anonymous usage events to dbt Labs; chartflow sends none.
      env: { ...env, PYTHONUNBUFFERED: '1', DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    holdOpen(child, false);
    const keep = (text: string) => {
      this.#output = (this.#output + text).slice(-maxOutputLength);
    };
    const streams = [child.stdout!, child.stderr!].map((stream) => {
      const ended = { id: 0 };
      // Text that may be the start of an end-of-output line, held until the rest arrives.
      let held = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const text = held + chunk;
        let from = 0;
        for (const match of text.matchAll(endOfOutput)) {
          keep(text.slice(from, match.index));
          ended.id = Number(match[1]);
          from = match.index + match[0].length;
        }
        const open = text.indexOf('\x1e', from);
        held = open === -1 ? '' : text.slice(open);
        keep(text.slice(from, open === -1 ? undefined : open));
        if (held.length > 64) {
          keep(held);
          held = '';
        }
        this.#settleIfDone(streams);
      });
      return ended;
    });
    // A request written after the worker died fails on the pipe; its command fails through 'close'.
    child.stdin!.on('error', () => undefined);
    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      const answer = answerSchema.safeParse(safeJson(line));
      if (answer.success && answer.data.id === this.#pending?.id) {
        this.#pending.answer = { code: answer.data.exitCode, signal: null };
        this.#settleIfDone(streams);
      }
    });
    // 'close' comes once stdout and stderr have ended: the command's output is all in.
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.#child === child) this.#child = undefined;
      const pending = this.#pending;
      pending?.settle(pending.answer ?? { code, signal });
    };
    child.once('error', (error) => {
      this.#output += error.message;
      ended(127, null);
    });
    child.once('close', ended);
    return child;
  }

  /** Settles the command under way once it has its answer and the end of its output on both streams. */
  #settleIfDone(streams: readonly { readonly id: number }[]): void {
    const pending = this.#pending;
    if (pending?.answer && streams.every((stream) => stream.id >= pending.id)) {
      pending.settle(pending.answer);
    }
  }
}

/**
 * A worker keeps Node running only while a command is under way: an idle one never holds a
 * process open that has nothing else to do (it ends when Node does, its stdin closed).
 */
const holdOpen = (child: ChildProcess, hold: boolean): void => {
  for (const handle of [child, ...child.stdio] as ({ ref?: () => void; unref?: () => void } | null)[]) {
    if (hold) handle?.ref?.();
    else handle?.unref?.();
  }
};

const safeJson = (line: string): unknown => {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
};
