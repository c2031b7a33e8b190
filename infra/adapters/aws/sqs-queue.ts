import { ChangeMessageVisibilityCommand, SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import pRetry, { AbortError } from 'p-retry';
import * as z from 'zod';
import { ConfigError, InvalidRecordError, PermanentError, RetryableError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { logger } from '../../../shared/logger.js';
import type { OutgoingMessage, Queue } from '../../../shared/ports/queue.js';
import { awsError, awsErrorName } from './aws-errors.js';

/** Options of an {@link SqsQueue}. */
export interface SqsQueueOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: SQSClient;
  /** The queue's URL (as `GetQueueUrl` or a stack output gives it). */
  readonly queueUrl: string;
}

const optionsSchema = z.object({
  client: z.instanceof(SQSClient, { message: 'must be an SQSClient' }),
  queueUrl: z.url({ message: 'must be the queue URL' }),
});

/** SendMessageBatch takes at most 10 entries and 256 KiB of bodies a request. */
const maxEntries = 10;
const maxRequestBytes = 256 * 1024;

const failedEntriesSchema = z.array(
  z.object({ Id: z.string(), SenderFault: z.boolean(), Code: z.string(), Message: z.string().optional() }),
);
type FailedEntry = z.output<typeof failedEntriesSchema>[number];

// A handle that no longer names an in-flight receive: the message was deleted, received again, or
// its visibility timeout ended. The port says such a change does nothing.
const staleHandleNames = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight']);
const isStaleHandle = (error: unknown): boolean => {
  const name = awsErrorName(error) ?? '';
  if (staleHandleNames.has(name.replace(/^AWS\.SimpleQueueService\./, ''))) return true;
  return name === 'InvalidParameterValue' && /receipt ?handle/i.test((error as Error).message ?? '');
};

/** Splits messages into the batches SendMessageBatch accepts; a body over the byte limit goes alone. */
const chunksOf = (messages: readonly OutgoingMessage[]): OutgoingMessage[][] => {
  const chunks: OutgoingMessage[][] = [];
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body);
    if (chunk.length === maxEntries || (chunk.length > 0 && bytes + size > maxRequestBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
};

const describeFailures = (failed: readonly FailedEntry[]) =>
  failed.map((f) => `${f.Id} (${f.Code}${f.Message ? `: ${f.Message}` : ''})`).join(', ');

/**
 * The sending side of an SQS queue. `send` batches with SendMessageBatch and sends again the
 * entries SQS reports failed for reasons of its own; entries SQS refuses (sender fault) fail the
 * send with a {@link PermanentError} naming them. Delivery to consumers is the Lambda event source
 * mapping's business.
 */
export class SqsQueue implements Queue {
  /** The queue's URL. */
  readonly queueUrl: string;
  readonly #client: SQSClient;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: SqsQueueOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'SqsQueue options', ConfigError);
    this.#client = parsed.client;
    this.queueUrl = parsed.queueUrl;
  }

  /**
   * Sends messages in batches of at most 10 entries and 256 KiB, one batch after another.
   *
   * @throws {InvalidRecordError} if two messages share an id; nothing is sent then.
   * @throws {PermanentError} if SQS refuses an entry (sender fault) or the request; the batches
   *   before it were sent.
   * @throws {RetryableError} if entries still fail after a few tries, or SQS cannot be reached.
   */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const ids = new Set<string>();
    for (const { id } of messages) {
      if (ids.has(id)) {
        throw new InvalidRecordError(
          `SQS send to ${this.queueUrl}: BatchEntryIdsNotDistinct: id "${id}" is repeated`,
        );
      }
      ids.add(id);
    }
    for (const chunk of chunksOf(messages)) await this.#sendBatch(chunk);
  }

  /**
   * ChangeMessageVisibility: hides the received message for `timeoutSeconds` from now, rounded up
   * to whole seconds as SQS counts them. A stale receipt handle changes nothing and is no error.
   *
   * @throws {RangeError} if `timeoutSeconds` is not within 0..43200.
   */
  async changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void> {
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > 43_200) {
      throw new RangeError(`a visibility timeout is 0 to 43200 seconds, not ${timeoutSeconds}`);
    }
    try {
      await this.#client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.ceil(timeoutSeconds),
        }),
      );
    } catch (error) {
      if (isStaleHandle(error)) {
        logger.debug('Visibility not changed: the receipt handle is stale', { queueUrl: this.queueUrl });
        return;
      }
      throw awsError(`SQS ChangeMessageVisibility ${this.queueUrl}`, error);
    }
  }

  async #sendBatch(batch: readonly OutgoingMessage[]): Promise<void> {
    const what = `SQS SendMessageBatch ${this.queueUrl}`;
    let pending = batch;
    await pRetry(
      async () => {
        let answer;
        try {
          answer = await this.#client.send(
            new SendMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: pending.map((m) => ({ Id: m.id, MessageBody: m.body })),
            }),
          );
        } catch (error) {
          // The SDK has already retried what was worth retrying.
          throw new AbortError(awsError(what, error));
        }
        let failed: z.output<typeof failedEntriesSchema>;
        try {
          failed = parseOrThrow(failedEntriesSchema, answer.Failed ?? [], `${what}: Failed`);
        } catch (error) {
          // An answer SQS should not give: sending again would not change it.
          throw new AbortError(error as Error);
        }
        if (failed.length === 0) return;
        const refused = failed.filter((f) => f.SenderFault);
        if (refused.length > 0) {
          throw new AbortError(
            new PermanentError(`${what}: SQS refused entries ${describeFailures(refused)}`),
          );
        }
        const failedIds = new Set(failed.map((f) => f.Id));
        pending = pending.filter((m) => failedIds.has(m.id));
        throw new RetryableError(`${what}: entries failed ${describeFailures(failed)}`);
      },
      { retries: 3, minTimeout: 100, maxTimeout: 2_000, randomize: true },
    );
  }
}
