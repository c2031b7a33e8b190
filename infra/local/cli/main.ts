import { Command, CommanderError } from 'commander';
import { ConfigError, LockWaitTimeoutError } from '../../../shared/errors.js';
import { defaultContext, type CliContext } from './context.js';
import { UsageError } from './options.js';
import { registerRun } from './commands/run.js';
import { registerReplay } from './commands/replay.js';
import { registerBackfill } from './commands/backfill.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerIngest } from './commands/ingest.js';
import { registerStatus } from './commands/status.js';
import { registerRetryMissing } from './commands/retry-missing.js';
import { registerVerify } from './commands/verify.js';
import { registerSql } from './commands/sql.js';
import { registerReport } from './commands/report.js';
import { registerReconcile } from './commands/reconcile.js';

const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

/**
 * The `chartflow` command. Returns the exit code: 0 when the work succeeded, 1 when a run did not
 * succeed or failed, 2 for a usage or configuration mistake, which is caught before anything is written.
 */
export const main = async (
  argv: readonly string[],
  context: CliContext = defaultContext(),
  waitForStop = untilSignal,
): Promise<number> => {
  let exitCode = 0;
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  const program = new Command('chartflow')
    .description('Spotify charts, enriched and kept in a Kimball star')
    .exitOverride()
    .configureOutput({ writeOut: (text) => context.out(text.trimEnd()), writeErr: () => undefined })
    .showSuggestionAfterError(false)
    .allowExcessArguments(false);
  registerRun(program, context, setExitCode);
  registerReplay(program, context, setExitCode);
  registerBackfill(program, context, setExitCode);
  registerIngest(program, context, setExitCode);
  registerStatus(program, context, setExitCode);
  registerRetryMissing(program, context, setExitCode);
  registerVerify(program, context, setExitCode);
  registerReconcile(program, context, setExitCode);
  registerSql(program, context);
  registerReport(program, context);
  registerSandbox(program, context, waitForStop);
  for (const command of program.commands) command.exitOverride().allowExcessArguments(false);

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return report(error, context);
  }
};

/** One sentence on what went wrong, and the exit code for it. */
const report = (error: unknown, context: CliContext): number => {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      return 0;
    context.note(`chartflow: ${sentence(error.message.replace(/^error: /, ''))}`);
    return 2;
  }
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof LockWaitTimeoutError) {
    context.note(`chartflow: ${sentence(error.message)}`);
    return 2;
  }
  context.note(`chartflow: ${sentence((error as Error).message ?? String(error))}`);
  return 1;
};

const sentence = (text: string) => {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  // A sentence of ours ends with a full stop; a warehouse's exclamation mark (DuckDB's) becomes one.
  return /[.?]$/.test(capital) ? capital : `${capital.replace(/!$/, '')}.`;
};
