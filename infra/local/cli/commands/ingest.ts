import type { Command } from 'commander';
import * as z from 'zod';
import { chartFilesToIngest } from '../chart-files.js';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { startDayProgress, type DayProgress } from '../progress.js';
import { formatSummary, succeeded } from '../format.js';
import { chartDateOption, homeWriter, parseOptions } from '../options.js';
import {
  resolveTarget,
  targetShape,
  targetWait,
  targetWaitOption,
  targetWaitShape,
  withTargetOptions,
} from '../target.js';

/**
 * `chartflow ingest`: Spotify Charts CSV files into the lake's inbox, one at a time, each day run
 * end to end. A `-latest` file goes in under its dated name, so that the inbox only holds names
 * that say their day (which is what chart-fetch reads on AWS, where no `--date` reaches it). With
 * `--target aws`, the files go into the deployed inbox as one batch: one dbt build for them all
 * (infra/local/cli/aws-ingest.ts).
 */
export const registerIngest = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  const command = program
    .command('ingest')
    .description(
      "load Spotify Charts CSV files through the lake's inbox: here each day end to end, in date order; on AWS one batch, one dbt build",
    )
    .argument('<paths...>', 'chart files, or folders whose .csv files are all ingested')
    .option('--date <YYYY-MM-DD>', 'the chart day of regional-…-latest.csv files')
    .option('--json', 'print the summaries as one JSON array')
    .option(
      ...targetWaitOption(
        'follow the batch until its one transform has ended (up to an hour), and show its runs',
      ),
    );
  withTargetOptions(command).action(async (paths: string[], raw: unknown, command: Command) => {
    const options = parseOptions(
      z.object({
        date: chartDateOption('--date', context.clock).optional(),
        json: z.boolean().default(false),
        ...targetWaitShape,
        ...targetShape,
      }),
      raw,
    );
    const waits = targetWait(options.wait, options.target, {
      aws: 'it follows the batch for up to an hour',
      embedded: 'ingest here always runs each day to its end',
    });
    const target = resolveTarget(options, context);
    const files = await chartFilesToIngest(paths, options.date, context.clock);
    if (target.kind === 'aws') {
      const { ingestOnAws } = await import('../aws-ingest.js');
      setExitCode(await ingestOnAws(files, { json: options.json, wait: waits.aws }, target, context));
      return;
    }
    const config = context.config();
    const writer = homeWriter(command, waits.homeSeconds);
    let progress: DayProgress | undefined;
    const noted = { ...context, note: (line: string) => (progress ?? context).note(line) };
    const summaries = await withPipeline(noted, config, writer, async (pipeline) => {
      progress = startDayProgress(context, { total: files.length, json: options.json });
      pipeline.reportProgress((line) => progress!.phase(line.replace(/^chartflow: /, '')));
      progress.phase(`ingesting ${files.length} chart file(s), each day end to end`, true);
      let done = 0;
      try {
        return await pipeline.ingest(
          files.map((f) => ({ name: f.identity.inboxFileName, body: f.body })),
          (summary) => {
            done += 1;
            progress!.dayDone(
              `chartflow: [${done}/${files.length}] ${summary.chartId} ${summary.chartDate}: ${summary.status}`,
            );
          },
        );
      } finally {
        progress.stop();
      }
    });
    context.out(options.json ? JSON.stringify(summaries) : summaries.map(formatSummary).join('\n\n'));
    setExitCode(summaries.every(succeeded) ? 0 : 1);
  });
};
