import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { EventBridgeEvent, S3Event } from '@aws-lambda-powertools/parser/types';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { batchId, chartId, type ChartDay } from '../../shared/records/messages.js';
import { inboxChartsPrefix, isoDate } from '../../shared/lake/keys.js';
import { parseOrThrow } from '../../shared/parse.js';
import { createdKeysOf } from '../../shared/events/s3-event.js';
import { fetchChart, type ChartFetchDeps, type ChartFetchResult } from './fetch-chart.js';
import { fetchChartFile, type ChartFileResult } from './fetch-chart-file.js';

/**
 * A direct invocation (the CLI, a backfill) names the day; the daily schedule names nothing. A
 * backfill also names its batch: the day's load then waits for the batch's one transform.
 */
const directEventSchema = z
  .object({ chartDate: isoDate.optional(), chartId: chartId.optional(), batchId: batchId.optional() })
  .strict();
/** The daily schedule: an EventBridge scheduled rule's event, whose time is the day to fetch. */
const scheduledEventSchema = EventBridgeSchema.extend({ 'detail-type': z.literal('Scheduled Event') });

// Which kind an event is, by its outline only: each kind's own schema then reads it whole, so that
// a malformed S3 or scheduled event is refused in that kind's terms rather than as a direct one.
const s3Outline = z.object({ Records: z.array(z.unknown()) });
const eventBridgeOutline = z.object({ 'detail-type': z.string() });

export type ChartFetchEvent = z.infer<typeof directEventSchema> | EventBridgeEvent | S3Event;

export interface ChartFetchHandlerDeps extends ChartFetchDeps {
  /** The charts a scheduled run fetches, and the default of a direct one. */
  readonly charts: readonly string[];
}

/**
 * The days an event asks for: one chart if it names one, else every configured chart.
 *
 * @throws {InvalidRecordError} naming the field, for a scheduled or direct event that is malformed
 */
export const parseChartFetchEvent = (
  event: unknown,
  deps: Pick<ChartFetchHandlerDeps, 'charts' | 'clock'>,
): (ChartDay & { batchId?: string })[] => {
  if (eventBridgeOutline.safeParse(event).success) {
    const { time } = parseOrThrow(scheduledEventSchema, event, 'chart-fetch scheduled event');
    return deps.charts.map((c) => ({ chartId: c, chartDate: time.slice(0, 10) }));
  }
  const direct = parseOrThrow(directEventSchema, event, 'chart-fetch event');
  const chartDate = direct.chartDate ?? deps.clock.now().toISOString().slice(0, 10);
  const charts = direct.chartId ? [direct.chartId] : deps.charts;
  const batch = direct.batchId ? { batchId: direct.batchId } : {};
  return charts.map((c) => ({ chartId: c, chartDate, ...batch }));
};

/**
 * The chart files an S3 event announces (the bucket notification on `inbox/charts/`), or
 * `undefined` when the event is not an S3 event. Keys outside the inbox are left out: they are
 * not chart files, whatever routed them here.
 */
export const inboxKeysOf = (event: unknown): string[] | undefined =>
  s3Outline.safeParse(event).success
    ? createdKeysOf(event).filter((key) => key.startsWith(inboxChartsPrefix))
    : undefined;

/** Lands each file of the inbox, one after the other. */
const landInboxFiles = async (keys: readonly string[], deps: ChartFetchHandlerDeps) => {
  const results: ChartFileResult[] = [];
  for (const key of keys) {
    logger.appendKeys({ inboxKey: key });
    try {
      const result = await fetchChartFile(key, deps);
      logger.info('chart file landed', {
        chartId: result.chartId,
        chartDate: result.chartDate,
        runId: result.runId,
        entries: result.entries,
        skipped: result.skipped,
      });
      results.push(result);
    } finally /* Stryker disable next-line BlockStatement: the next file's appendKeys replaces inboxKey before any of its lines, no line follows the loop, and the middleware's resetKeys takes the key off as the invocation ends, failed or not */ {
      // Stryker disable next-line ArrayDeclaration,StringLiteral: as above, a key left on would be replaced or reset before any line could carry it
      logger.removeKeys(['inboxKey']);
    }
  }
  return results;
};

export const makeHandler = (deps: ChartFetchHandlerDeps) =>
  middy<unknown, (ChartFetchResult | ChartFileResult)[]>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const inboxKeys = inboxKeysOf(event);
      if (inboxKeys) return landInboxFiles(inboxKeys, deps);
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
        } finally /* Stryker disable next-line BlockStatement: the next day's appendKeys replaces both keys before any of its lines, no line follows the loop, and the middleware's resetKeys takes them off as the invocation ends, failed or not */ {
          // Stryker disable next-line ArrayDeclaration,StringLiteral: as above, a key left on would be replaced or reset before any line could carry it
          logger.removeKeys(['chartId', 'chartDate']);
        }
      }
      return results;
    });
