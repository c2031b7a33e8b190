import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidRecordError } from '../../../shared/errors.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { readChartsCsvFile } from '../../../services/chart-fetch/sources/spotify-charts-csv.js';
import type { ChartsFileIdentity } from '../../../services/chart-fetch/sources/spotify-charts-csv-file-name.js';
import { UsageError } from './options.js';

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
