import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLocalConfig } from '../shared/config/config.js';
import { LocalPipeline } from '../infra/local/runtime.js';

/**
 * Runs `work` on a pipeline of its own (a new home in a temp folder), and always stops it. Its
 * sandbox runs on a thread, as the CLI runs it, unless `inspect` asks for one in process (whose
 * catalog the caller reads).
 */
export const withPipeline = async <T>(
  env: Record<string, string>,
  work: (p: LocalPipeline) => Promise<T>,
  { inspect = false }: { readonly inspect?: boolean } = {},
): Promise<T> => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-bench-'));
  const pipeline = await LocalPipeline.start({
    config: parseLocalConfig({ CHARTFLOW_HOME: home, ...env }),
    processEnv: process.env,
    sandboxThread: !inspect,
  });
  try {
    return await work(pipeline);
  } finally {
    await pipeline.close();
    await rm(home, { recursive: true, force: true });
  }
};

/** Rows as aligned columns, the first row the header. */
export const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

export const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** Limits high enough never to pace: the sandbox answers as fast as it can. */
export const liftedLimit = '1000000/1';

/** The day `days` after `from`, as YYYY-MM-DD. */
export const dayAfter = (from: string, days: number): string =>
  new Date(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
