import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { withLogKeys } from '../../shared/log-keys.js';
import { InvalidRecordError, isRetryable, TransformBusyError } from '../../shared/errors.js';
import type { Queue } from '../../shared/ports/queue.js';
import { detailOf } from '../../shared/events/bus-event.js';
import {
  stageLoadedDetailType,
  stageLoadedSchema,
  transformRequestedDetailType,
  transformRequestedSchema,
} from '../../shared/records/messages.js';
import {
  runRequestedTransform,
  runTransform,
  type TransformDeps,
  type TransformResult,
} from './run-transform.js';

const detailTypeOf = z.object({ 'detail-type': z.string() }).loose();

/** Two rules target it: "Stage Loaded" (a day, or a backfill's load) and "Transform Requested" (a backfill's batch). */
export const makeHandler = (deps: TransformDeps) =>
  middy<unknown, TransformResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const requested = detailTypeOf.safeParse(event).data?.['detail-type'] === transformRequestedDetailType;
      // The ids the event names (a day alone is a batch named by its load); the batch's own, and
      // its run ids, go on the lines once the lake fixes its loads (shared/transform/batch-observer.ts).
      return requested ? requestedTransform(event, deps) : loadedTransform(event, deps);
    });

const requestedTransform = (event: unknown, deps: TransformDeps): Promise<TransformResult> => {
  const request = detailOf(event, transformRequestedDetailType, transformRequestedSchema);
  return withLogKeys({ batchId: request.batchId }, async () =>
    logged(await runRequestedTransform(request, deps)),
  );
};

const loadedTransform = (event: unknown, deps: TransformDeps): Promise<TransformResult> => {
  const loaded = detailOf(event, stageLoadedDetailType, stageLoadedSchema);
  return withLogKeys({ batchId: loaded.batchId ?? loaded.loadId, runIds: [loaded.runId] }, async () =>
    logged(await runTransform(loaded, deps)),
  );
};

/** The transform's one line of outcome (infra/alarms.yml counts its failures). */
const logged = (result: TransformResult): TransformResult => {
  logger.info('transform', { ...result });
  return result;
};

/**
 * How long a message waits when the warehouse is busy with another batch, or a try failed for a
 * reason that passes (Fargate capacity, Data API throttling): a dbt build takes minutes, and the
 * queue's visibility timeout (six times the function's timeout, as AWS advises for an event
 * source) would make it wait half an hour instead, while the loads behind it count receives.
 */
export const busyRetrySeconds = 60;

/** The EventBridge envelope a TransformQueue message carries (the rule's target is the queue). */
const envelopeOf = (record: SQSRecord): unknown => {
  try {
    return JSON.parse(record.body);
  } catch {
    throw new InvalidRecordError(`transform queue message ${record.messageId} is not JSON`);
  }
};

/**
 * On AWS an EventBridge rule puts the completion events in TransformQueue and the queue feeds
 * transform, one record per invocation: the core handler runs on each envelope as it does locally.
 * A busy warehouse (TransformBusyError), or any failure worth another try, hands its message back
 * to the queue for {@link busyRetrySeconds}; after maxReceiveCount deliveries it goes to the
 * queue's DLQ. A permanent failure waits the queue's visibility timeout before its next try.
 */
export type TransformQueueDeps = TransformDeps & { readonly transformQueue: Pick<Queue, 'changeVisibility'> };

export const makeQueueHandler = (deps: TransformQueueDeps) => {
  const transform = makeHandler(deps);
  // A processor per invocation: it keeps the records' outcomes while it runs, so two invocations
  // sharing one (two batches at once, as the local runtime may run them) would mix their answers.
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          return await transform(envelopeOf(record), context);
        } catch (error) {
          if (error instanceof TransformBusyError) {
            await deps.transformQueue.changeVisibility(record.receiptHandle, busyRetrySeconds);
            logger.info('warehouse busy: message handed back', { seconds: busyRetrySeconds });
          } else if (isRetryable(error)) {
            await deps.transformQueue.changeVisibility(record.receiptHandle, busyRetrySeconds);
            logger.warn('transform failed, to be tried again', {
              seconds: busyRetrySeconds,
              error: error as Error,
            });
          } else {
            logger.error('transform failed: the message returns to the queue', error as Error);
          }
          throw error;
        }
      },
      new BatchProcessor(EventType.SQS),
      // A busy warehouse is a normal wait, not a function error: the record is reported failed,
      // the invocation succeeds (and the Errors metric stays for real failures).
      { context, throwOnFullBatchFailure: false },
    );
};
