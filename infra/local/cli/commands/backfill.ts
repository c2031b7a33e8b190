import type { Command } from 'commander';
import { z } from 'zod';
import { chartIds as sandboxChartIds } from '../../../sandbox/catalog.js';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { formatSummary, succeeded } from '../format.js';
import { assertKnownChart, chartDateOption, chartOption, parseOptions } from '../options.js';
import type { RunSummary } from '../../run-summary.js';

/** At most this many days in one backfill: a year and a bit, so that a typo cannot start a decade. */
const maxDays = 400;

/** The days from `from` to `to`, inclusive, in order. */
export const daysBetween = (from: string, to: string): string[] => {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
};

/** `chartflow backfill`: runs the days of a range in order, each end to end. */
export const registerBackfill = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('backfill')
    .description('run every day of a range in order, each end to end')
    .requiredOption('--from <YYYY-MM-DD>', 'the first day')
    .requiredOption('--to <YYYY-MM-DD>', 'the last day (inclusive)')
    .option('--chart <id>', 'one chart (default: every configured chart)')
    .option('--json', 'print the summaries as one JSON array')
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z
          .object({
            from: chartDateOption('--from', context.clock),
            to: chartDateOption('--to', context.clock),
            chart: chartOption.optional(),
            json: z.boolean().default(false),
          })
          .refine((o) => o.from <= o.to, { message: '--from must not be after --to', path: ['from'] })
          .refine((o) => daysBetween(o.from, o.to).length <= maxDays, {
            message: `a backfill covers at most ${maxDays} days`,
            path: ['to'],
          }),
        raw,
      );
      const config = context.config();
      assertKnownChart(options.chart, config.spotify ? Object.keys(config.chartPlaylists) : sandboxChartIds);
      const days = daysBetween(options.from, options.to);
      const summaries = await withPipeline(context, config, async (pipeline) => {
        const results: RunSummary[] = [];
        for (const [index, chartDate] of days.entries()) {
          for (const chartId of options.chart ? [options.chart] : pipeline.charts) {
            const summary = await pipeline.run({ chartId, chartDate });
            context.note(
              `chartflow: [${index + 1}/${days.length}] ${chartId} ${chartDate}: ${summary.status}`,
            );
            results.push(summary);
          }
        }
        return results;
      });
      context.out(options.json ? JSON.stringify(summaries) : summaries.map(formatSummary).join('\n\n'));
      setExitCode(summaries.every(succeeded) ? 0 : 1);
    });
};
