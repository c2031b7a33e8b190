import type { Command } from 'commander';
import * as z from 'zod';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { formatSummary, succeeded } from '../format.js';
import { chartDateOption, chartOption, homeWriter, parseOptions, UsageError } from '../options.js';
import { replayOnAws } from '../aws-replay.js';
import {
  resolveTarget,
  targetShape,
  targetWait,
  targetWaitOption,
  targetWaitShape,
  withTargetOptions,
} from '../target.js';

const replayHelp = `
On AWS (--target aws) the stack's replay function resets the day's claims and
copies its raw objects onto themselves; their ObjectCreated events reload and
transform the day there. Without --wait the command ends once the function has
answered: chartflow status --target aws shows the outcome.

On this machine, --wait <seconds> is how long to wait when another chartflow
command is writing to the home (default: 60; 0: do not wait), then exit 2;
the replay itself is always waited for.

Exit code: 0 when the day was replayed (and, where the command waits, every
new load succeeded); 1 when a run or the replay function failed, or --wait
gave up; 2 for a usage or configuration mistake (a day the lake does not
have, no such stack, no region), or when another command held the home for
longer than --wait.`;

/** `chartflow replay`: reprocess a day from what the lake holds, by re-announcing its raw objects. */
export const registerReplay = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  withTargetOptions(
    program
      .command('replay')
      .description("reload and transform a day again from the lake's raw prefix (nothing is fetched)")
      .requiredOption('--date <YYYY-MM-DD>', 'the chart day to replay')
      .option('--chart <id>', 'one chart (default: every chart of that day)')
      .option('--json', 'print the summary as one JSON object'),
  )
    .option(...targetWaitOption('wait (up to 30 minutes) until the new load has ended, and show it'))
    .addHelpText('after', replayHelp)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(
        z.object({
          date: chartDateOption('--date', context.clock),
          chart: chartOption.optional(),
          json: z.boolean().default(false),
          ...targetWaitShape,
          ...targetShape,
        }),
        raw,
      );
      const waits = targetWait(options.wait, options.target, {
        aws: 'it waits up to 30 minutes for the new load',
        embedded: 'an embedded replay always waits for its outcome',
      });
      const target = resolveTarget(options, context);
      if (target.kind === 'aws') {
        setExitCode(await replayOnAws({ ...options, wait: waits.aws }, target, context));
        return;
      }
      const wait = waits.homeSeconds;
      const config = context.config();
      const result = await withPipeline(context, config, homeWriter(command, wait), async (pipeline) => {
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
