import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: dbt runs from there, as the pipeline runs it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The dbt of the project virtualenv (infra/local/ensure-dbt-venv.sh builds it; `npm test` runs that first). */
export const dbtBinary = path.join(repoRoot, '.venv', 'bin', 'dbt');

export const assertDbtInstalled = (): void => {
  if (!existsSync(dbtBinary)) {
    throw new Error(`dbt is not installed at ${dbtBinary}: run "bash infra/local/ensure-dbt-venv.sh" first`);
  }
};

export interface DbtResult {
  readonly exitCode: number;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  readonly durationMs: number;
}

export interface DbtOptions {
  /** Variables for the profile (CHARTFLOW_DUCKDB_PATH, CHARTFLOW_PG_*). */
  readonly env: Readonly<Record<string, string>>;
  /** dbt's target/ and logs/ go here, so concurrent runs never share them. */
  readonly workDir: string;
  readonly timeoutMs?: number;
}

/**
 * Runs `dbt <command> --profiles-dir dbt --project-dir dbt ...` from the repository root, the way the
 * runner does, and resolves with its exit code whatever it is.
 */
export const runDbt = (command: readonly string[], options: DbtOptions): Promise<DbtResult> => {
  const args = [
    ...command,
    '--profiles-dir',
    'dbt',
    '--project-dir',
    'dbt',
    '--target-path',
    path.join(options.workDir, 'target'),
    '--log-path',
    path.join(options.workDir, 'logs'),
  ];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(dbtBinary, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 110_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        output,
        durationMs: Math.round(performance.now() - started),
      }),
    );
  });
};
