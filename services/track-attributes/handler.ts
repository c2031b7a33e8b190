import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsAttributesSchema, SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SqsRecord } from '@aws-lambda-powertools/parser/types';
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { trackMessageSchema } from '../../shared/records/messages.js';
import { issuesOf, parseOrThrow } from '../../shared/parse.js';
import { enrichTracks, type DeliveredTrack, type EnrichDeps } from './enrich-tracks.js';

/** A record of the track queue: Powertools' SQS record, its body a track message, its receive count a count. */
const trackRecordSchema = SqsRecordSchema.extend({
  body: JSONStringified(trackMessageSchema),
  attributes: SqsAttributesSchema.extend({ ApproximateReceiveCount: z.coerce.number().int().positive() }),
});

/** What track-attributes needs: the enricher's dependencies. */
export type TrackAttributesHandlerDeps = EnrichDeps;

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
      const result = await enrichTracks(delivered, deps);
      logger.info('attributes landed', {
        records: event.Records.length,
        written: result.written,
        quarantined: result.quarantined,
        backlogged: result.backlogged,
      });
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
