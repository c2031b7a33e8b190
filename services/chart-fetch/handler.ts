import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../../shared/logger.js';
import { chartId, type ChartDay } from '../../shared/records/messages.js';
import { isoDate } from '../../shared/lake/keys.js';
import { describeIssues, InvalidRecordError } from '../../shared/errors.js';
import { fetchChart, type ChartFetchDeps, type ChartFetchResult } from './fetch-chart.js';

/** A direct invocation (the CLI, a backfill) names the day; the daily schedule names nothing. */
const directEventSchema = z.object({ chartDate: isoDate.optional(), chartId: chartId.optional() }).strict();
const scheduledEventSchema = z
  .object({ 'detail-type': z.literal('Scheduled Event'), time: z.iso.datetime() })
  .loose();

export type ChartFetchEvent = z.infer<typeof directEventSchema> | ScheduledEvent;

export interface ChartFetchHandlerDeps extends ChartFetchDeps {
  /** The charts a scheduled run fetches, and the default of a direct one. */
  readonly charts: readonly string[];
}

/** The days an event asks for: one chart if it names one, else every configured chart. */
export const parseChartFetchEvent = (
  event: unknown,
  deps: Pick<ChartFetchHandlerDeps, 'charts' | 'clock'>,
): ChartDay[] => {
  const scheduled = scheduledEventSchema.safeParse(event);
  if (scheduled.success) {
    return deps.charts.map((c) => ({ chartId: c, chartDate: scheduled.data.time.slice(0, 10) }));
  }
  const direct = directEventSchema.safeParse(event);
  if (!direct.success) {
    throw new InvalidRecordError(`chart-fetch event: ${describeIssues(direct.error.issues)}`);
  }
  const chartDate = direct.data.chartDate ?? deps.clock.now().toISOString().slice(0, 10);
  const charts = direct.data.chartId ? [direct.data.chartId] : deps.charts;
  return charts.map((c) => ({ chartId: c, chartDate }));
};

export const makeHandler = (deps: ChartFetchHandlerDeps) =>
  middy<unknown, ChartFetchResult[]>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const results: ChartFetchResult[] = [];
      for (const day of parseChartFetchEvent(event, deps)) {
        logger.appendKeys({ chartId: day.chartId, chartDate: day.chartDate });
        try {
          const result = await fetchChart(day, deps);
          logger.info('chart landed', {
            runId: result.runId,
            entries: result.entries,
            skipped: result.skipped,
          });
          results.push(result);
        } finally {
          logger.removeKeys(['chartId', 'chartDate']);
        }
      }
      return results;
    });
