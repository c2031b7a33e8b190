import { batchOfInboxKey, inboxChartsPrefix, lakeKeys } from '../../shared/lake/keys.js';
import { batchId as batchIdSchema } from '../../shared/records/messages.js';
import { parseOrThrow } from '../../shared/parse.js';
import { readChartsCsvFile } from './sources/spotify-charts-csv.js';
import { PermanentError } from '../../shared/errors.js';
import { landChart, type ChartFetchResult, type LandChartDeps } from './fetch-chart.js';

/** What landing a file from the inbox made: the run, and the inbox key it came from. */
export interface ChartFileResult extends ChartFetchResult {
  readonly inboxKey: string;
}

/**
 * Lands a Spotify Charts CSV file dropped into the lake's inbox (`inbox/charts/…`) as its day's
 * chart: the day and the chart come from the file's name, the entries from its rows. The file
 * itself is kept as received next to the normalized files, then the day goes on as any other
 * chart ({@link landChart}). The inbox object is left where it is: the pipeline deletes nothing. A
 * file under a batch's folder (`inbox/charts/batch=<id>/`, `chartflow ingest --target aws`) joins
 * that batch; a file dropped on its own runs as its own day.
 *
 * @throws {PermanentError} if the key is not under the inbox or the object is gone.
 * @throws {InvalidRecordError} naming the file if its name or its header is not a Spotify Charts file's.
 */
export const fetchChartFile = async (inboxKey: string, deps: LandChartDeps): Promise<ChartFileResult> => {
  if (!inboxKey.startsWith(inboxChartsPrefix)) {
    throw new PermanentError(`${inboxKey} is not under the chart inbox (${inboxChartsPrefix})`);
  }
  const body = await deps.store.get(inboxKey);
  // S3 delivers events at least once and possibly late: the object may have been removed since.
  if (body === undefined) throw new PermanentError(`${inboxKey} is no longer in the lake`);
  // The inbox may be organized in folders: the file's name alone says what it holds.
  const fileName = inboxKey.slice(inboxKey.lastIndexOf('/') + 1);
  const { day, snapshot } = readChartsCsvFile(fileName, body);
  const batch = batchOfInboxKey(inboxKey);
  const batchId =
    batch === undefined ? undefined : parseOrThrow(batchIdSchema, batch, `${inboxKey}: its batch`);
  const result = await landChart(
    // Stryker disable next-line ConditionalExpression: landChart reads a day's batchId only as `day.batchId ? …`, so `{ ...day, batchId: undefined }` lands exactly as `day`
    batchId === undefined ? day : { ...day, batchId },
    snapshot,
    { key: lakeKeys.chartSourceFile(day.chartDate, day.chartId), body, contentType: 'text/csv' },
    deps,
  );
  return { ...result, inboxKey };
};
