import cliProgress from 'cli-progress';
import type { CliContext } from './context.js';

/**
 * How a long command (`backfill`, `ingest`) tells where it is:
 * - on a terminal, one progress bar on standard error (cli-progress): days done out of the total,
 *   the time left, and the phase under way ("enriching 183/200", "transforming in one dbt build");
 *   other notes print above it;
 * - without one (CI, a pipe), one line per day, and a line when the phase changes;
 * - with `--json`, nothing but the summary: progress says nothing, and notes (a wait for the home,
 *   a warning) still go to standard error.
 */
export interface DayProgress {
  /** A note that is not progress: printed as it is, above the bar on a terminal. */
  note(line: string): void;
  /**
   * The phase under way. A `lasting` phase ("transforming …") is also a line without a terminal;
   * a passing one (a count that changes every second) is shown on the bar only.
   */
  phase(text: string, lasting?: boolean): void;
  /** A day is done; its line is what prints without a terminal. */
  dayDone(line: string): void;
  /** The command is over: the bar stays as it ended. */
  stop(): void;
}

/** Starts the progress of `total` days, in the way that suits where standard error goes. */
export const startDayProgress = (
  context: CliContext,
  options: { readonly total: number; readonly json: boolean; readonly unit?: string },
): DayProgress => {
  if (options.json) {
    return { note: context.note, phase: () => undefined, dayDone: () => undefined, stop: () => undefined };
  }
  const stream = context.progressStream;
  if (!stream?.isTTY) {
    return {
      note: context.note,
      phase: (text, lasting) => {
        if (lasting) context.note(`chartflow: ${text}`);
      },
      dayDone: context.note,
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: `chartflow {bar} {value}/{total} ${options.unit ?? 'days'} | {duration_formatted} so far, {eta_formatted} left | {phase}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(options.total, 0, { phase: 'starting' });
  return {
    note: (line) => bars.log(`${line}\n`),
    phase: (text) => bar.update({ phase: text }),
    dayDone: () => bar.increment(1),
    stop: () => bars.stop(),
  };
};
