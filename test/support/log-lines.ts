import { vi } from 'vitest';
import { logger } from '../../shared/logger.js';

/** A line of chartflow's JSON log (Powertools Logger), as read back from standard output. */
export type LogLine = Record<string, unknown> & { readonly message?: string };

/**
 * Runs `work` with the logger at INFO and standard output captured, and answers its JSON lines
 * (log lines and EMF lines alike), parsed. The logger's level is given back after. The handlers'
 * middleware sets the level back to the environment's (ERROR in the tests) as each invocation
 * starts; that step is held off meanwhile.
 */
export const captureLogLines = async (work: () => Promise<unknown>): Promise<LogLine[]> => {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  const level = logger.getLevelName();
  const refresh = vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
  logger.setLogLevel('INFO');
  try {
    await work();
  } finally {
    logger.setLogLevel(level);
    refresh.mockRestore();
    spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
};

/**
 * As {@link captureLogLines}, with the lines at WARN and ERROR too: the logger writes those to
 * standard error, which is sent on to standard output meanwhile.
 */
export const allLogLines = async (work: () => Promise<unknown>): Promise<LogLine[]> => {
  const stderr = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => process.stdout.write(String(chunk)));
  try {
    return await captureLogLines(work);
  } finally {
    stderr.mockRestore();
  }
};

/** The lines of one message. */
export const linesOf = (lines: readonly LogLine[], message: string): LogLine[] =>
  lines.filter((line) => line.message === message);
