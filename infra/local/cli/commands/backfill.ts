import type { Command } from 'commander';
import * as z from 'zod';
import { sandboxChartIds } from '../../../sandbox/catalog.js';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { pointAtReport, reportChart } from '../report-file.js';
import { startDayProgress, type DayProgress } from '../progress.js';
import { backfillSucceeded, formatBackfill, formatSummary, succeeded } from '../format.js';
import {
  assertKnownChart,
  chartDateOption,
  chartOption,
  homeWriter,
  parseOptions,
  waitOption,
  waitShape,
} from '../options.js';
import type { BackfillSummary, RunSummary } from '../../run-summary.js';
import type { LocalConfig } from '../../../../shared/config/config.js';
import { assertLiveDays } from '../live-history.js';

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

/**
 * `chartflow backfill`: fetches, enriches and loads every day of a range (and chart), then transforms
 * them all in one dbt build. `--one-by-one` runs each day end to end instead, one dbt build per day,
 * as `chartflow run` would: slower, same marts.
 */
export const registerBackfill = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('backfill')
    .description(
      'load every day of a range, then transform them all in one dbt build (--one-by-one: each day end to end)',
    )
    .requiredOption('--from <YYYY-MM-DD>', 'the first day')
    .requiredOption('--to <YYYY-MM-DD>', 'the last day (inclusive)')
    .option('--chart <id>', 'one chart (default: every configured chart)')
    .option(
      '--one-by-one',
      'run each day end to end, one dbt build per day, as `chartflow run` does (slower; same marts)',
    )
    .option('--json', 'print the summary as one JSON object (with --one-by-one: an array, one per day)')
    .option(...waitOption)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(
        z
          .object({
            from: chartDateOption('--from', context.clock),
            to: chartDateOption('--to', context.clock),
            chart: chartOption.optional(),
            oneByOne: z.boolean().default(false),
            json: z.boolean().default(false),
            ...waitShape,
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
      const dates = daysBetween(options.from, options.to);
      assertLiveDays(config, dates, context.clock);
      const writer = homeWriter(command, options.wait);
      if (options.oneByOne) {
        const summaries = await oneByOne(context, config, writer, dates, options.chart, options.json);
        context.out(options.json ? JSON.stringify(summaries) : summaries.map(formatSummary).join('\n\n'));
        setExitCode(summaries.every(succeeded) ? 0 : 1);
        await pointAtReport(context, reportChart(summaries.map((s) => s.chartId)), options.to);
        return;
      }
      const summary = await inOneBatch(context, config, writer, dates, options.chart, options.json);
      context.out(options.json ? JSON.stringify(summary) : formatBackfill(summary));
      setExitCode(backfillSucceeded(summary) ? 0 : 1);
      await pointAtReport(context, reportChart(summary.days.map((d) => d.chartId)), options.to);
    });
};

type Writer = ReturnType<typeof homeWriter>;

/** `--one-by-one`: each day end to end, as `chartflow run` would. */
const oneByOne = (
  context: CliContext,
  config: LocalConfig,
  writer: Writer,
  dates: readonly string[],
  chart: string | undefined,
  json: boolean,
): Promise<RunSummary[]> => {
  const charts = chart ? [chart] : undefined;
  let progress: DayProgress | undefined;
  const noted = { ...context, note: (line: string) => (progress ?? context).note(line) };
  return withPipeline(noted, config, writer, async (pipeline) => {
    const days = dates.flatMap((chartDate) =>
      (charts ?? pipeline.charts).map((chartId) => ({ chartId, chartDate })),
    );
    progress = startDayProgress(context, { total: days.length, json });
    pipeline.reportProgress((line) => progress!.phase(line.replace(/^chartflow: /, '')));
    const results: RunSummary[] = [];
    try {
      for (const [index, day] of days.entries()) {
        progress.phase(`running ${day.chartId} ${day.chartDate}`);
        const summary = await pipeline.run(day);
        progress.dayDone(
          `chartflow: [${index + 1}/${days.length}] ${day.chartId} ${day.chartDate}: ${summary.status}`,
        );
        results.push(summary);
      }
    } finally {
      progress.stop();
    }
    return results;
  });
};

/** Every day loaded first, then one transform of them all. */
const inOneBatch = (
  context: CliContext,
  config: LocalConfig,
  writer: Writer,
  dates: readonly string[],
  chart: string | undefined,
  json: boolean,
): Promise<BackfillSummary> => {
  let progress: DayProgress | undefined;
  const noted = { ...context, note: (line: string) => (progress ?? context).note(line) };
  return withPipeline(noted, config, writer, async (pipeline) => {
    const days = dates.flatMap((chartDate) =>
      (chart ? [chart] : pipeline.charts).map((chartId) => ({ chartId, chartDate })),
    );
    progress = startDayProgress(context, { total: days.length, json });
    pipeline.reportProgress((line) => progress!.phase(line.replace(/^chartflow: /, '')));
    progress.phase(`loading ${days.length} chart day(s), then one transform of them all`, true);
    const loadStarted = performance.now();
    try {
      return await pipeline.backfill(days, {
        onDay: (d) =>
          progress!.dayDone(
            `chartflow: [${d.index}/${d.total}] ${d.chartId} ${d.chartDate}: ${d.status === 'loaded' ? 'loaded' : 'not loaded'}`,
          ),
        onTransform: (loads) =>
          progress!.phase(
            `${loads} day(s) loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s; transforming them in one dbt build`,
            true,
          ),
      });
    } finally {
      progress.stop();
    }
  });
};
