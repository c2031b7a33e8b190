import type { Command } from 'commander';
import * as z from 'zod';
import { sandboxChartIds } from '../../../sandbox/catalog.js';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { formatSummary, succeeded } from '../format.js';
import {
  assertKnownChart,
  chartDateOption,
  chartOption,
  homeWriter,
  parseOptions,
  waitOption,
  waitShape,
} from '../options.js';
import type { RunSummary } from '../../run-summary.js';
import { assertLiveDays } from '../live-history.js';
import { pointAtReport, reportChart } from '../report-file.js';

/** `chartflow run`: one day end to end, waiting until its transform has finished. */
export const registerRun = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('run')
    .description('run one chart day end to end (extract, enrich, load, checks, dbt) and print a summary')
    .option('--date <YYYY-MM-DD>', 'the chart day (default: today, UTC)')
    .option('--chart <id>', 'one chart (default: every configured chart)')
    .option('--json', 'print the summary as one JSON object')
    .option(...waitOption)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(
        z.object({
          date: chartDateOption('--date', context.clock).default(
            context.clock.now().toISOString().slice(0, 10),
          ),
          chart: chartOption.optional(),
          json: z.boolean().default(false),
          ...waitShape,
        }),
        raw,
      );
      const config = context.config();
      assertLiveDays(config, [options.date], context.clock);
      assertKnownChart(options.chart, config.spotify ? Object.keys(config.chartPlaylists) : sandboxChartIds);
      const writer = homeWriter(command, options.wait);
      const summaries = await withPipeline(context, config, writer, async (pipeline) => {
        pipeline.reportProgress(context.note);
        const results: RunSummary[] = [];
        for (const chartId of options.chart ? [options.chart] : pipeline.charts) {
          context.note(`chartflow: running ${chartId} ${options.date}…`);
          results.push(await pipeline.run({ chartId, chartDate: options.date }));
        }
        return results;
      });
      context.out(
        options.json
          ? JSON.stringify(summaries.length === 1 ? summaries[0] : summaries)
          : summaries.map(formatSummary).join('\n\n'),
      );
      setExitCode(summaries.every(succeeded) ? 0 : 1);
      await pointAtReport(context, reportChart(summaries.map((s) => s.chartId)), options.date);
    });
};
