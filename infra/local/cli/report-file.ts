import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunRecords, type RunRecord } from '../../../shared/lake/run-records.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { WarehouseReader } from '../../../shared/ports/warehouse-reader.js';
import { FsObjectStore } from '../../adapters/embedded/fs-object-store.js';
import { loadChartScripts } from '../report/chart-scripts.js';
import { gatherReport, type ReportScope } from '../report/report-data.js';
import { renderReport } from '../report/report-html.js';
import type { CliContext } from './context.js';
import { onAws, type Target } from './target.js';
import { openLocalReader, openRedshiftReader } from './warehouse-reader-for.js';

/** The chart a report is about unless told. */
export const defaultReportChart = 'global';
/** How many days a report covers unless told: the period ends on --to (default today, UTC). */
export const defaultReportDays = 90;
/** How many of the last runs the data-health section shows. */
const healthRuns = 30;

const addDays = (day: string, days: number): string => {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
};

/** The line that points at a written report. */
export const reportWritten = (scope: ReportScope, url: string): string =>
  `chartflow: wrote the report of ${scope.chartId}, ${scope.from} to ${scope.to}: open ${url} to see the charts`;

/** The report's file unless told: CHARTFLOW_HOME/report/index.html. */
export const defaultReportPath = (context: CliContext): string =>
  path.join(context.config().home, 'report', 'index.html');

/** The default period: the {@link defaultReportDays} days up to `to`. */
export const defaultReportScope = (chartId: string, to: string): ReportScope => ({
  chartId,
  from: addDays(to, 1 - defaultReportDays),
  to,
});

/**
 * Reads the marts and the run records of the target, and writes the report to `out` (whole, then
 * moved into place: a browser never opens half a report). Answers its file:// URL.
 */
export const writeReport = async (
  context: CliContext,
  target: Target,
  scope: ReportScope,
  out: string,
): Promise<string> => {
  const today = context.clock.now().toISOString().slice(0, 10);
  const latestRuns = (store: ObjectStore): Promise<RunRecord[]> =>
    new RunRecords(store).latest({ limit: healthRuns, chartId: scope.chartId, today });
  const gather = async (reader: WarehouseReader | undefined, runs: readonly RunRecord[]) => {
    try {
      return await gatherReport({ reader, scope, runs, now: context.clock.now() });
    } finally {
      await reader?.close();
    }
  };
  const data =
    target.kind === 'embedded'
      ? await gather(
          await openLocalReader(context),
          await latestRuns(new FsObjectStore({ root: context.config().lakeRoot })),
        )
      : await onAws(target, async (aws) => {
          const { LakeBucketName } = await aws.outputs(['LakeBucketName']);
          return gather(
            await openRedshiftReader(aws, context.clock),
            await latestRuns(aws.lake(LakeBucketName).store),
          );
        });
  const html = renderReport(data, await loadChartScripts());
  await mkdir(path.dirname(out), { recursive: true });
  const staged = `${out}.${process.pid}.tmp`;
  await writeFile(staged, html);
  await rename(staged, out);
  return pathToFileURL(out).href;
};

/** The chart a run's report is about: global when the run had it, else the first chart it ran. */
export const reportChart = (chartIds: readonly string[]): string =>
  chartIds.includes(defaultReportChart) ? defaultReportChart : (chartIds[0] ?? defaultReportChart);

/**
 * What `run` and `backfill` end with: the report of the chart they ran, for the 90 days up to its
 * last day, and the line that points at it. A report that cannot be written is a note, not a
 * failure of the run.
 */
export const pointAtReport = async (context: CliContext, chartId: string, lastDay: string): Promise<void> => {
  const scope = defaultReportScope(chartId, lastDay);
  try {
    const url = await writeReport(context, { kind: 'embedded' }, scope, defaultReportPath(context));
    context.note(reportWritten(scope, url));
  } catch (error) {
    context.note(`chartflow: could not write the report: ${(error as Error).message}`);
  }
};
