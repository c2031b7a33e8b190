import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsAttributesSchema, SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SqsRecord } from '@aws-lambda-powertools/parser/types';
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { withLogKeys } from '../../shared/log-keys.js';
import { noMetrics } from '../../shared/ports/metrics.js';
import { trackMessageSchema } from '../../shared/records/messages.js';
import { issuesOf, parseOrThrow } from '../../shared/parse.js';
import { enrichTracks, type DeliveredTrack, type EnrichDeps } from './enrich-tracks.js';

/** A record of the track queue: Powertools' SQS record, its body a track message, its receive count a count. */
const trackRecordSchema = SqsRecordSchema.extend({
  body: JSONStringified(trackMessageSchema),
  attributes: SqsAttributesSchema.extend({ ApproximateReceiveCount: z.coerce.number().int().positive() }),
});

/** What track-attributes needs: the enricher's dependencies, and the queue's redrive. */
export interface TrackAttributesHandlerDeps extends EnrichDeps {
  /**
   * The track queue's maxReceiveCount: a record handed back on that delivery is dead-lettered by
   * the redrive, and counted so (the DeadLetteredItems metric). None counts nothing.
   */
  readonly maxReceiveCount?: number;
}

/** How many times SQS has delivered a record; 1 when its attributes do not say. */
const receiveCountOf = (record: SqsRecord): number =>
  z.coerce.number().int().positive().catch(1).parse(record.attributes.ApproximateReceiveCount);

/**
 * Counts the records handed back on their last delivery, which the queue's redrive moves to the
 * dead-letter queue, as DeadLetteredItems (nothing when there are none).
 */
const countDeadLettered = (records: readonly SqsRecord[], deps: TrackAttributesHandlerDeps): void => {
  const { maxReceiveCount } = deps;
  // Stryker disable next-line ConditionalExpression: without the guard, a count compared with undefined (>=) is false for every record, so nothing is counted either
  if (maxReceiveCount === undefined) return;
  const last = records.filter((record) => receiveCountOf(record) >= maxReceiveCount).length;
  if (last > 0) (deps.metrics ?? noMetrics).deadLettered(last);
};

/**
 * Multi-id lookups need the batch as a whole, so the core takes every record at once and names the
 * failed ones; Powertools' BatchProcessor handles one record at a time, which would cost one API
 * call per track. A record that is not a track message can never succeed: it is logged and left to
 * the queue's redrive, which dead-letters it. That is all the dead-letter queue is for: a track no
 * provider answers today still gets its row and goes to the backlog (enrich-tracks.ts).
 */
export const makeHandler = (deps: TrackAttributesHandlerDeps) =>
  middy<unknown, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (input) => {
      // Not an SQS event at all: nothing to name as failed, so the invocation fails.
      const event = parseOrThrow(SqsSchema, input, 'SQS event');
      const delivered: DeliveredTrack[] = [];
      const malformed: string[] = [];
      for (const record of event.Records) {
        const parsed = parseRecord(record);
        if (parsed) delivered.push(parsed);
        else malformed.push(record.messageId);
      }
      const runIds = [...new Set(delivered.map((d) => d.message.runId))].sort();
      return withLogKeys({ runIds }, async () => {
        let result;
        try {
          result = await enrichTracks(delivered, deps);
        } catch (error) {
          // Every record goes back to the queue: those on their last delivery go on to its DLQ.
          countDeadLettered(event.Records, deps);
          throw error;
        }
        logger.info('attributes landed', {
          records: event.Records.length,
          written: result.written,
          quarantined: result.quarantined,
          backlogged: result.backlogged,
        });
        const failed = new Set([...malformed, ...result.failedMessageIds]);
        countDeadLettered(
          event.Records.filter((record) => failed.has(record.messageId)),
          deps,
        );
        return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
      });
    });

/** A record as a delivered track, or `undefined` (logged with why) for one that is not a track message. */
const parseRecord = (record: SqsRecord): DeliveredTrack | undefined => {
  const parsed = trackRecordSchema.safeParse(record);
  if (!parsed.success) {
    logger.error('track message is malformed', {
      messageId: record.messageId,
      issues: issuesOf(parsed.error),
    });
    return undefined;
  }
  const { messageId, attributes, body } = parsed.data;
  return { messageId, receiveCount: attributes.ApproximateReceiveCount, message: body };
};
