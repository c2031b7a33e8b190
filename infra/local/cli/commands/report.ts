import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { isoDate } from '../../../../shared/lake/keys.js';
import type { ReportScope } from '../../report/report-data.js';
import type { CliContext } from '../context.js';
import { chartOption, parseOptions, UsageError } from '../options.js';
import {
  defaultReportChart,
  defaultReportDays,
  defaultReportPath,
  defaultReportScope,
  reportWritten,
  writeReport,
} from '../report-file.js';
import { resolveTarget, targetShape, withTargetOptions } from '../target.js';

const help = `
The report is one HTML file that opens from file:// with no network: the
charting library (Vega-Lite), the styles and the data are all inside it. It
reads only the marts (and, for its data-health section, the run records in
the lake); with --target aws, Redshift through the Data API and the stack's
bucket. What each section shows: docs/report.md.

Exit code: 0 with the report written; 1 when the warehouse could not be
read; 2 for a usage mistake.`;

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
      const to = options.to ?? context.clock.now().toISOString().slice(0, 10);
      const scope: ReportScope = {
        ...defaultReportScope(options.chart, to),
        ...(options.from ? { from: options.from } : {}),
      };
      if (scope.from > to) throw new UsageError(`--from ${scope.from} is after --to ${to}.`);
      const out = path.resolve(options.out ?? defaultReportPath(context));

      const url = await writeReport(context, target, scope, out);
      context.out(reportWritten(scope, url));
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
