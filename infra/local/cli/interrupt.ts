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

/**
 * Ctrl-C during a writing command (docs/reliability.md, "Interrupted runs"): the first SIGINT or
 * SIGTERM stops dbt, cleans the stage, records the unfinished runs `interrupted`, gives back the
 * lock, says so, and exits 130. A second signal exits at once. Returns how to stop listening.
 */
export const stopCleanlyOnSignal = (
  pipeline: LocalPipeline,
  note: (text: string) => void,
  exit: Exit = (code) => process.exit(code),
): (() => void) => {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(interruptedExitCode);
      return;
    }
    stopping = true;
    void (async () => {
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
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
};
