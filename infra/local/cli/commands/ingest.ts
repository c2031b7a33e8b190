import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { InvalidRecordError } from '../../../../shared/errors.js';
import type { Clock } from '../../../../shared/ports/clock.js';
import { readChartsCsvFile } from '../../../../services/chart-fetch/sources/spotify-charts-csv.js';
import type { ChartsFileIdentity } from '../../../../services/chart-fetch/sources/spotify-charts-csv-file-name.js';
import type { CliContext } from '../context.js';
import { withPipeline } from '../context.js';
import { startDayProgress, type DayProgress } from '../progress.js';
import { formatSummary, succeeded } from '../format.js';
import { chartDateOption, homeWriter, parseOptions, UsageError, waitOption, waitShape } from '../options.js';

/** A chart file checked and ready for the inbox: what it is, where it came from, its bytes. */
export interface ChartFileToIngest {
  readonly path: string;
  readonly identity: ChartsFileIdentity;
  readonly body: Uint8Array;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The files a path stands for: itself, or a folder's `*.csv` files (not its sub-folders), by name. */
const filesOf = async (given: string): Promise<string[]> => {
  const info = await stat(given).catch((error: unknown) => {
    if (isMissing(error)) throw new UsageError(`"${given}" does not exist.`);
    throw error;
  });
  if (!info.isDirectory()) return [given];
  const entries = await readdir(given, { withFileTypes: true });
  const csvFiles = entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.csv'))
    .map((e) => e.name)
    .sort();
  if (csvFiles.length === 0) throw new UsageError(`The folder "${given}" holds no .csv file.`);
  return csvFiles.map((name) => path.join(given, name));
};

/**
 * Finds and checks every chart file before anything is written: names (the chart and the day,
 * `--date` for `-latest` files), dates (calendar days, not in the future), headers, at least one
 * usable row, and one file per chart and day. Returns them ordered by day, then chart, so that
 * days run in order.
 *
 * @throws {UsageError} naming the first file that is not right, and why.
 */
export const chartFilesToIngest = async (
  paths: readonly string[],
  latestDate: string | undefined,
  clock: Clock,
): Promise<ChartFileToIngest[]> => {
  const today = clock.now().toISOString().slice(0, 10);
  const files: ChartFileToIngest[] = [];
  for (const file of (await Promise.all(paths.map(filesOf))).flat()) {
    const name = path.basename(file);
    if (latestDate === undefined && /-latest\.csv$/.test(name)) {
      throw new UsageError(
        `"${name}" is the latest chart, whose day its name does not say: give it with --date.`,
      );
    }
    const body = await readFile(file);
    let read;
    try {
      read = readChartsCsvFile(name, body, latestDate === undefined ? {} : { latestDate });
    } catch (error) {
      if (error instanceof InvalidRecordError) throw new UsageError(error.message);
      throw error;
    }
    const { identity, snapshot } = read;
    if (identity.chartDate > today) {
      throw new UsageError(
        `"${name}" is the chart of ${identity.chartDate}, which is in the future (today is ${today} UTC).`,
      );
    }
    if (snapshot.entries.length === 0) {
      throw new UsageError(`"${name}" has no usable row (${snapshot.skipped.length} skipped).`);
    }
    const twin = files.find(
      (f) => f.identity.chartId === identity.chartId && f.identity.chartDate === identity.chartDate,
    );
    if (twin) {
      throw new UsageError(
        `"${twin.path}" and "${file}" are both the ${identity.chartId} chart of ${identity.chartDate}: give only one.`,
      );
    }
    files.push({ path: file, identity, body });
  }
  if (latestDate !== undefined && !files.some((f) => f.identity.latest)) {
    throw new UsageError('--date is the day of -latest.csv files, and none of the files is one.');
  }
  return files.sort(
    (a, b) =>
      a.identity.chartDate.localeCompare(b.identity.chartDate) ||
      a.identity.chartId.localeCompare(b.identity.chartId),
  );
};

/**
 * `chartflow ingest`: Spotify Charts CSV files into the lake's inbox, one at a time, each day run
 * end to end. A `-latest` file goes in under its dated name, so that the inbox only holds names
 * that say their day (which is what chart-fetch reads on AWS, where no `--date` reaches it).
 */
export const registerIngest = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  program
    .command('ingest')
    .description("load Spotify Charts CSV files through the lake's inbox, each day end to end, in date order")
    .argument('<paths...>', 'chart files, or folders whose .csv files are all ingested')
    .option('--date <YYYY-MM-DD>', 'the chart day of regional-…-latest.csv files')
    .option('--json', 'print the summaries as one JSON array')
    .option(...waitOption)
    .action(async (paths: string[], raw: unknown, command: Command) => {
      const options = parseOptions(
        z.object({
          date: chartDateOption('--date', context.clock).optional(),
          json: z.boolean().default(false),
          ...waitShape,
        }),
        raw,
      );
      const files = await chartFilesToIngest(paths, options.date, context.clock);
      const config = context.config();
      const writer = homeWriter(command, options.wait);
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
