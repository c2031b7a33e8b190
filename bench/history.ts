import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { daysBetween } from '../infra/local/cli/commands/backfill.js';
import { dayAfter, liftedLimit, seconds, table, withPipeline } from './pipeline.js';
import { measureReportDrawing } from './report-render.js';
import { timeCommand } from './measure.js';

const run = promisify(execFile);

/** The year of history: 365 days, every one a full 200-entry chart in the sandbox. */
export const historyEnd = '2025-12-31';
/** The new days a transform is timed on, after the history: the same days whatever its length. */
const newDays = [1, 2, 3].map((n) => dayAfter(historyEnd, n));

/** What one backfill of `days` days of history, then a few new days one by one, measured. */
export interface HistoryFigures {
  readonly historyDays: number;
  readonly backfillMs: number;
  /** The process's peak resident memory over the backfill, in bytes. */
  readonly peakRssBytes: number;
  /** The dbt phase of each new day after the history. */
  readonly newDayDbtMs: number[];
  readonly status: string;
  readonly report: string;
  /** With `reportRuns`: the wall time of each new `chartflow report` process over the whole history. */
  readonly reportMs?: number[];
  /** The size of that report's file, in bytes. */
  readonly reportBytes?: number;
  /** The median time Chromium takes to draw every chart of it, when Chromium is here. */
  readonly reportDrawMs?: number;
}

const root = path.resolve(import.meta.dirname, '..');

/**
 * The report of the whole history, as a user makes it: `reportRuns` new `chartflow report`
 * processes over the history's home, each timed start to exit; the file's size.
 */
const measureReport = async (
  home: string,
  historyDays: number,
  reportRuns: number,
): Promise<{ reportMs: number[]; reportBytes: number; reportFile: string }> => {
  const reportFile = path.join(home, 'report-history.html');
  const reportMs = await timeCommand(
    process.execPath,
    [
      path.join(root, 'bin', 'chartflow.js'),
      'report',
      '--from',
      dayAfter(historyEnd, 1 - historyDays),
      '--to',
      historyEnd,
      '--out',
      reportFile,
    ],
    reportRuns,
    { env: { ...process.env, CHARTFLOW_HOME: home } },
  );
  return { reportMs, reportBytes: (await stat(reportFile)).size, reportFile };
};

/**
 * Backfills the `historyDays` days up to {@link historyEnd} in one batch, then runs each new day
 * alone and keeps its dbt phase. The rate limits are lifted: the sandbox needs none, and a real
 * backfill's pace is the providers' limits (the report says what they would cost).
 */
export const measureHistory = async (historyDays: number, reportRuns = 0): Promise<HistoryFigures> => {
  const days = daysBetween(dayAfter(historyEnd, 1 - historyDays), historyEnd).map((chartDate) => ({
    chartId: 'global',
    chartDate,
  }));
  return withPipeline(
    { SPOTIFY_RATE_LIMIT: liftedLimit, RECCOBEATS_RATE_LIMIT: liftedLimit },
    async (pipeline) => {
      const started = performance.now();
      const summary = await pipeline.backfill(days);
      const backfillMs = performance.now() - started;
      const peakRssBytes = process.resourceUsage().maxRSS * 1024;
      const newDayDbtMs: number[] = [];
      for (const chartDate of newDays) {
        const day = await pipeline.run({ chartId: 'global', chartDate });
        if (day.status !== 'succeeded') throw new Error(`the new day ${chartDate} ${day.status}`);
        newDayDbtMs.push(day.timingsMs.dbt);
      }
      // The report reads the warehouse file from a process of its own: this one lets go of it first.
      await pipeline.warehouse.close?.();
      const reported =
        reportRuns > 0 ? await measureReport(pipeline.config.home, historyDays, reportRuns) : undefined;
      const reportDrawMs = reported ? await measureReportDrawing(reported.reportFile, reportRuns) : undefined;
      const t = summary.timingsMs;
      const busy = summary.busyMs;
      const report = [
        table([
          ['phase', 'wall s', 'busy s', 'what'],
          ['total', seconds(t.total), '', `${summary.status}: ${summary.loads} of ${days.length} days`],
          ['loading', seconds(t.load), '', 'every day fetched, enriched and loaded; days overlap'],
          [
            '  fetch',
            seconds(t.fetch),
            seconds(busy.fetch),
            'chart-fetch: playlist pages, chart CSV, manifest',
          ],
          ['  enrich', seconds(t.enrich), seconds(busy.enrich), 'track-attributes: lookups, attribute CSVs'],
          [
            '  load',
            seconds(t.stageLoad),
            seconds(busy.stageLoad),
            'stage-loader: completeness, claim, COPY',
          ],
          ['checks', seconds(t.checks), '', 'every check, over all the loads at once'],
          ['dbt', seconds(t.dbt), '', `one dbt build of the ${days.length} days`],
        ]),
        '',
        `rows loaded: ${Object.entries(summary.rows)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}; requests: ${Object.entries(summary.requests)
          .map(([p, n]) => `${p} ${n}`)
          .join(', ')}`,
      ].join('\n');
      return {
        historyDays,
        backfillMs,
        peakRssBytes,
        newDayDbtMs,
        status: summary.status,
        report,
        ...(reported ? { reportMs: reported.reportMs, reportBytes: reported.reportBytes } : {}),
        ...(reportDrawMs !== undefined ? { reportDrawMs } : {}),
      };
    },
  );
};

/**
 * {@link measureHistory} in a process of its own (`node dist/bench.js --history N`), so that its
 * peak memory is the backfill's alone.
 */
export const measureHistoryApart = async (historyDays: number, reportRuns = 0): Promise<HistoryFigures> => {
  const { stdout } = await run(
    process.execPath,
    [process.argv[1]!, '--history', String(historyDays), '--report-runs', String(reportRuns)],
    {
      maxBuffer: 16 * 1024 * 1024,
      env: process.env,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as HistoryFigures;
};
