import { spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import * as z from 'zod';
import { isoDate } from '../../../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import type { WarehouseReader } from '../../../../shared/ports/warehouse-reader.js';
import { FsObjectStore } from '../../../adapters/embedded/fs-object-store.js';
import { gatherReport, type ReportScope } from '../../report/report-data.js';
import { renderReport } from '../../report/report-html.js';
import { loadChartScripts } from '../../report/chart-scripts.js';
import type { CliContext } from '../context.js';
import { chartOption, parseOptions, UsageError } from '../options.js';
import { onAws, resolveTarget, targetShape, withTargetOptions } from '../target.js';
import { openLocalReader, openRedshiftReader } from '../warehouse-reader-for.js';

/** The chart a report is about unless told. */
export const defaultReportChart = 'global';
/** How many days a report covers unless told: the period ends on --to (default today, UTC). */
export const defaultReportDays = 90;
/** How many of the last runs the data-health section shows. */
const healthRuns = 30;

const help = `
The report is one HTML file that opens from file:// with no network: the
charting library (Vega-Lite), the styles and the data are all inside it. It
reads only the marts (and, for its data-health section, the run records in
the lake); with --target aws, Redshift through the Data API and the stack's
bucket. What each section shows: docs/report.md.

Exit code: 0 with the report written; 1 when the warehouse could not be
read; 2 for a usage mistake.`;

const addDays = (day: string, days: number): string => {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
};

/** `chartflow report`: the warehouse's answers as charts, in one static HTML file. */
export const registerReport = (program: Command, context: CliContext): void => {
  withTargetOptions(
    program
      .command('report')
      .description(
        'write an HTML report of the warehouse: the chart now, trajectories, longevity, features, new releases, data health',
      )
      .option(
        '--from <YYYY-MM-DD>',
        `the period's first day (default: ${defaultReportDays} days before --to)`,
      )
      .option('--to <YYYY-MM-DD>', "the period's last day (default: today, UTC)")
      .option('--chart <id>', `the chart (default: ${defaultReportChart})`)
      .option('--out <path>', 'where to write it (default: CHARTFLOW_HOME/report/index.html)')
      .option('--open', 'open it in the browser once written'),
  )
    .addHelpText('after', help)
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z.object({
          from: isoDate.optional(),
          to: isoDate.optional(),
          chart: chartOption.default(defaultReportChart),
          out: z.string().min(1, 'must be a path').optional(),
          open: z.boolean().default(false),
          ...targetShape,
        }),
        raw,
      );
      const target = resolveTarget(options, context);
      const today = context.clock.now().toISOString().slice(0, 10);
      const to = options.to ?? today;
      const from = options.from ?? addDays(to, 1 - defaultReportDays);
      if (from > to) throw new UsageError(`--from ${from} is after --to ${to}.`);
      const scope: ReportScope = { chartId: options.chart, from, to };
      const out = path.resolve(options.out ?? path.join(context.config().home, 'report', 'index.html'));

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
      // Written whole, then moved into place: a browser never opens half a report.
      const staged = `${out}.${process.pid}.tmp`;
      await writeFile(staged, html);
      await rename(staged, out);
      const url = pathToFileURL(out).href;
      context.out(
        `chartflow: wrote the report of ${scope.chartId}, ${from} to ${to}: open ${url} to see the charts`,
      );
      if (options.open) openInBrowser(url, context);
    });
};

/** Opens a URL with the desktop's opener; a machine without one (a server, CI) gets a note, not a failure. */
const openInBrowser = (url: string, context: CliContext): void => {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => context.note(`chartflow: could not start ${opener}; open ${url} yourself`));
  child.unref();
};
