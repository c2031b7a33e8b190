import type { Interrupted, LocalPipeline } from '../runtime.js';
import { plural } from '../recovery.js';

/** The exit code of a command stopped by a signal, as shells report Ctrl-C. */
export const interruptedExitCode = 130;

/** What a stopped command does last; the process's own exit unless a test says otherwise. */
export type Exit = (code: number) => void;

/** The line a clean stop ends with: what was stopped and put right, and that the next run completes it. */
export const describeInterrupt = ({ dbtStopped, recovered }: Interrupted): string => {
  const done = [
    ...(dbtStopped > 0 ? ['stopped dbt'] : []),
    ...(recovered.stageSlices > 0 ? ['cleaned the stage'] : []),
    `${plural(recovered.interrupted.length, 'run')} recorded as interrupted`,
  ];
  const next = recovered.interrupted.length > 0 ? '; the next run completes it' : '';
  return `chartflow: interrupted: ${done.join(', ')}${next}.`;
};

/** What {@link stopCleanlyOnSignal} answers. */
export interface SignalListener {
  /** Stops listening. */
  readonly stop: () => void;
  /**
   * Resolves at once when no signal came; after one, once its clean stop is done and the exit
   * called, which in the CLI ends the process. The command's own end waits for it, so that a run
   * the signal made fail cannot end the process first with its own exit code.
   */
  readonly stopping: () => Promise<void>;
}

/**
 * Ctrl-C during a writing command (docs/reliability.md, "Interrupted runs"): the first SIGINT or
 * SIGTERM stops dbt, cleans the stage, records the unfinished runs `interrupted`, gives back the
 * lock, says so, and exits 130. A second signal exits at once.
 */
export const stopCleanlyOnSignal = (
  pipeline: LocalPipeline,
  note: (text: string) => void,
  exit: Exit = (code) => process.exit(code),
): SignalListener => {
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(interruptedExitCode);
      return;
    }
    stopping = (async () => {
      try {
        const interrupted = await pipeline.interrupt(signal);
        note(describeInterrupt(interrupted));
        await pipeline.close();
      } catch (error) {
        note(`chartflow: interrupted, but could not clean up: ${(error as Error).message}`);
      }
      exit(interruptedExitCode);
    })();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const signal of signals) process.on(signal, onSignal);
  return {
    stop: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
    stopping: () => stopping ?? Promise.resolve(),
  };
};
