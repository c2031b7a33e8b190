import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { parseOrThrow } from '../../shared/parse.js';
import {
  reconcile,
  reconcileRequestSchema,
  type ReconcileRequest,
  type ReconcilerDeps,
} from './reconcile.js';
import type { ReconcileReport } from './report.js';

/** The hourly schedule: an EventBridge scheduled rule's event, which names nothing: the default window. */
const scheduledEventSchema = EventBridgeSchema.extend({ 'detail-type': z.literal('Scheduled Event') });
const eventBridgeOutline = z.object({ 'detail-type': z.string() });

/**
 * The request an event makes: the schedule's asks for the default window, repaired; the CLI's
 * (`chartflow reconcile --target aws`) names `{from, to, chartId, dryRun}`, each optional.
 *
 * @throws {InvalidRecordError} naming the field, for an event that is neither
 */
export const parseReconcileEvent = (event: unknown): ReconcileRequest => {
  if (eventBridgeOutline.safeParse(event).success) {
    parseOrThrow(scheduledEventSchema, event, 'reconciler scheduled event');
    return {};
  }
  return parseOrThrow(reconcileRequestSchema, event, 'reconciler event');
};

// Stryker disable next-line ObjectLiteral,BooleanLiteral: nothing the reconciler runs appends temporary keys to the logger (only chart-fetch does, and it resets its own), so there is none to reset
const loggerOptions = { resetKeys: true };

export const makeHandler = (deps: ReconcilerDeps) =>
  middy<unknown, ReconcileReport>()
    .use(injectLambdaContext(logger, loggerOptions))
    .handler(async (event) => {
      const report = await reconcile(parseReconcileEvent(event), deps);
      // Keys and counts only: each finding and action names its day, run and kind.
      for (const finding of report.findings) logger.warn('reconciler finding', { ...finding });
      for (const action of report.actions) logger.info('reconciler action', { ...action });
      const stale = report.freshness.filter((f) => f.stale).map((f) => f.chartId);
      // Every round, 0 included: the freshness alarm fires on a stale chart, or on no figure at all.
      deps.metrics?.staleCharts(stale);
      logger.info('reconciled', {
        from: report.from,
        to: report.to,
        dryRun: report.dryRun,
        findings: report.findings.length,
        actions: report.actions.length,
        failedActions: report.actions.filter((a) => a.error !== undefined).length,
        leftAlone: report.leftAlone.length,
        staleCharts: stale,
      });
      return report;
    });
