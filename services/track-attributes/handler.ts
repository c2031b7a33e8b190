import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsAttributesSchema, SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SqsRecord } from '@aws-lambda-powertools/parser/types';
import type { SQSBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../../shared/logger.js';
import { trackMessageSchema } from '../../shared/records/messages.js';
import { issuesOf, parseOrThrow } from '../../shared/parse.js';
import type { Queue } from '../../shared/ports/queue.js';
import { enrichTracks, type DeliveredTrack, type EnrichDeps } from './enrich-tracks.js';

/** A record of the track queue: Powertools' SQS record, its body a track message, its receive count a count. */
const trackRecordSchema = SqsRecordSchema.extend({
  body: JSONStringified(trackMessageSchema),
  attributes: SqsAttributesSchema.extend({ ApproximateReceiveCount: z.coerce.number().int().positive() }),
});

/** SQS lets a message hide for 12 hours at most. */
const maxVisibilitySeconds = 43_200;

/** What track-attributes needs: the enricher's dependencies, and the queue it hands records back to. */
export type TrackAttributesHandlerDeps = EnrichDeps & { readonly queue: Pick<Queue, 'changeVisibility'> };

/**
 * Multi-id lookups need the batch as a whole, so the core takes every record at once and names the
 * failed ones; Powertools' BatchProcessor handles one record at a time, which would cost one API
 * call per track. A record that is not a track message can never succeed: it is logged and left to
 * the queue's redrive, which dead-letters it.
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
      const result = await enrichTracks(delivered, deps);
      logger.info('attributes landed', {
        records: event.Records.length,
        written: result.written,
        retried: result.failedMessageIds.length,
        deadLettered: result.deadLettered.length,
        quarantined: result.quarantined,
      });
      for (const { trackId, reason } of result.deadLettered) {
        logger.error('track dead-lettered', { trackId, reason });
      }
      if (result.retryAfterMs !== undefined) {
        // A provider asked for a long pause: the failed records wait in the queue that long (a
        // visible backlog), instead of coming back at every visibility timeout.
        const seconds = Math.min(maxVisibilitySeconds, Math.ceil(result.retryAfterMs / 1000));
        const failed = new Set(result.failedMessageIds);
        await Promise.all(
          event.Records.filter((r) => failed.has(r.messageId)).map((r) =>
            deps.queue.changeVisibility(r.receiptHandle, seconds),
          ),
        );
        logger.warn('provider rate limit: records handed back', { records: failed.size, seconds });
      }
      return {
        batchItemFailures: [...malformed, ...result.failedMessageIds].map((itemIdentifier) => ({
          itemIdentifier,
        })),
      };
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
