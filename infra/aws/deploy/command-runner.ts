import { spawn } from 'node:child_process';
import type { CommandResult, CommandRunner, RunOptions } from './ports.js';

/**
 * Runs commands as child processes in the repository's folder. A command that cannot be started
 * (not installed) ends with exit code 127, as a shell would say it, and the reason on stderr.
 */
export class ChildProcessRunner implements CommandRunner {
  constructor(private readonly cwd: string) {}

  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      const child = spawn(command, [...args], {
        cwd: this.cwd,
        env: { ...process.env, ...options.env },
        stdio: [
          options.input === undefined ? 'ignore' : 'pipe',
          options.show ? 'inherit' : 'pipe',
          options.show ? 'inherit' : 'pipe',
        ],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', (error) =>
        resolve({ exitCode: 127, stdout, stderr: `${command}: ${error.message}` }),
      );
      child.once('close', (code, signal) =>
        resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }),
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  }
}
