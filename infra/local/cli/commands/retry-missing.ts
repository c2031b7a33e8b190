import type { Command } from 'commander';
import * as z from 'zod';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { formatSummary, succeeded } from '../format.js';
import { chartDateOption, chartOption, homeWriter, parseOptions, waitOption, waitShape } from '../options.js';
import type { RetryMissingResult } from '../../retry-missing.js';

const retryMissingHelp = `
The backlog (the lake's control/backlog/) holds every track a run could not get
all attributes for, because of a quota or a provider error. Each affected day
runs again from the chart the lake already holds (only attributes are fetched),
and the marts then have what the providers answer now. A day whose tracks all
wait for a quota that has not ended is skipped, with a line saying until when.

Exit code: 0 when nothing is missing any more; 1 when something is still
missing (skipped, or still failing) or a run failed; 2 for a usage mistake.`;

/** `chartflow retry-missing`: ask again for the attributes the backlog says are missing. */
export const registerRetryMissing = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('retry-missing')
    .description("ask the providers again for the attributes in the lake's backlog, and rebuild those days")
    .option('--date <YYYY-MM-DD>', 'only this chart day (default: every day in the backlog)')
    .option('--chart <id>', 'only this chart (default: every chart in the backlog)')
    .option('--json', 'print the result as one JSON object')
    .option(...waitOption)
    .addHelpText('after', retryMissingHelp)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(
        z.object({
          date: chartDateOption('--date', context.clock).optional(),
          chart: chartOption.optional(),
          json: z.boolean().default(false),
          ...waitShape,
        }),
        raw,
      );
      const config = context.config();
      const result = await withPipeline(context, config, homeWriter(command, options.wait), (pipeline) =>
        pipeline.retryMissing(
          {
            ...(options.date ? { chartDate: options.date } : {}),
            ...(options.chart ? { chartId: options.chart } : {}),
          },
          (line) => context.note(line),
        ),
      );
      context.out(options.json ? JSON.stringify(result) : formatRetryMissing(result));
      const runsOk = result.days.every((d) => d.run === null || succeeded(d.run));
      setExitCode(result.stillMissing === 0 && runsOk ? 0 : 1);
    });
};

/** The result as a person reads it: one line per day, then each new run's summary. */
export const formatRetryMissing = (result: RetryMissingResult): string => {
  if (result.days.length === 0) return 'retry-missing: the backlog is empty, nothing to ask again';
  const lines = result.days.map((d) =>
    d.skippedUntil
      ? `${d.chartId} ${d.chartDate}: ${d.tracks} track(s) skipped, waiting for a quota until ${d.skippedUntil}`
      : `${d.chartId} ${d.chartDate}: ${d.tracks} track(s) asked again, ${d.tracks - d.stillMissing} filled, ${d.stillMissing} still missing (${d.run?.status ?? 'no run'})`,
  );
  const runs = result.days.flatMap((d) => (d.run ? [formatSummary(d.run)] : []));
  return [
    [`retry-missing: ${result.stillMissing} track(s) still missing`, ...lines].join('\n'),
    ...runs,
  ].join('\n\n');
};
