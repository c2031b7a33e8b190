import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { formatSummary, succeeded } from '../format.js';
import { chartDateOption, chartOption, parseOptions, UsageError } from '../options.js';

/** `chartflow replay`: reprocess a day from what the lake holds, by re-announcing its raw objects. */
export const registerReplay = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('replay')
    .description("reload and transform a day again from the lake's raw prefix (nothing is fetched)")
    .requiredOption('--date <YYYY-MM-DD>', 'the chart day to replay')
    .option('--chart <id>', 'one chart (default: every chart of that day)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z.object({
          date: chartDateOption('--date', context.clock),
          chart: chartOption.optional(),
          json: z.boolean().default(false),
        }),
        raw,
      );
      const config = context.config();
      const result = await withPipeline(context, config, async (pipeline) => {
        const prefix = `raw/chart_songs/date=${options.date}/${options.chart ? `chart=${options.chart}/` : ''}`;
        if ((await pipeline.store.list(prefix)).length === 0) {
          throw new UsageError(
            `There is nothing to replay for ${options.chart ?? 'any chart'} on ${options.date}: the lake has no such day.`,
          );
        }
        context.note(`chartflow: replaying ${options.chart ?? 'every chart'} ${options.date}…`);
        return pipeline.replay({
          chartDate: options.date,
          ...(options.chart ? { chartId: options.chart } : {}),
        });
      });
      context.out(
        options.json
          ? JSON.stringify(result)
          : [
              `replayed ${result.replay.objectsReplayed} objects, ${result.replay.claimsReset} claim(s) reset`,
              ...result.days.map(formatSummary),
            ].join('\n\n'),
      );
      setExitCode(result.days.length > 0 && result.days.every(succeeded) ? 0 : 1);
    });
};
