import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { daysBetween } from '../infra/local/cli/commands/backfill.js';
import { dayAfter, liftedLimit, seconds, table, withPipeline } from './pipeline.js';

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
}

/**
 * Backfills the `historyDays` days up to {@link historyEnd} in one batch, then runs each new day
 * alone and keeps its dbt phase. The rate limits are lifted: the sandbox needs none, and a real
 * backfill's pace is the providers' limits (the report says what they would cost).
 */
export const measureHistory = async (historyDays: number): Promise<HistoryFigures> => {
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
      return { historyDays, backfillMs, peakRssBytes, newDayDbtMs, status: summary.status, report };
    },
  );
};

/**
 * {@link measureHistory} in a process of its own (`node dist/bench.js --history N`), so that its
 * peak memory is the backfill's alone.
 */
export const measureHistoryApart = async (historyDays: number): Promise<HistoryFigures> => {
  const { stdout } = await run(process.execPath, [process.argv[1]!, '--history', String(historyDays)], {
    maxBuffer: 16 * 1024 * 1024,
    env: process.env,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as HistoryFigures;
};
