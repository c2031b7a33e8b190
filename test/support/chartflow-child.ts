import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const exec = promisify(execFile);

/** What a `node bin/chartflow.js …` child process did: its exit code and its two streams. */
export interface ChildRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin/chartflow.js …` as a child process, in a home of its own, with the variables
 * given on top of this process's environment (a variable given as `undefined` is removed), and
 * `input` on its standard input (which is closed, empty, without it).
 */
export const chartflowChild = async (
  home: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  input = '',
): Promise<ChildRun> => {
  const environment: Record<string, string | undefined> = { ...process.env, CHARTFLOW_HOME: home, ...env };
  for (const [name, value] of Object.entries(environment)) if (value === undefined) delete environment[name];
  try {
    const running = exec(process.execPath, ['bin/chartflow.js', ...args], {
      env: environment,
      timeout: 300_000,
    });
    running.child.stdin?.end(input);
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
};

/** Every file under a folder, as paths relative to it; none when the folder does not exist. */
export const filesUnder = async (root: string): Promise<string[]> => {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
};

/**
 * A refusal as the CLI's conventions want it (docs/cli.md, "Exit codes"): the exit code, one
 * sentence on standard error led by `chartflow:` (the last line; notes such as the sandbox's
 * address may come before it), no stack trace, nothing on standard output.
 */
export const expectRefusal = (run: ChildRun, code: number, sentence: RegExp): void => {
  expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(/^chartflow: [^\n]+\.$/);
  expect(lines.at(-1)).toMatch(sentence);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe('');
};
