import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The median of some figures (the mean of the middle two for an even count). */
export const median = (figures: readonly number[]): number => {
  if (figures.length === 0) throw new RangeError('the median of no figures');
  const sorted = [...figures].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The wall time of a whole command, in ms, `runs` times (each in a new process). */
export const timeCommand = async (
  command: string,
  args: readonly string[],
  runs: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number[]> => {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await run(command, [...args], { ...options, maxBuffer: 16 * 1024 * 1024 });
    times.push(performance.now() - started);
  }
  return times;
};
