import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { SqsBatchHandler } from '../../infra/adapters/embedded/memory-queue.js';
import { describeIssues } from '../../shared/errors.js';
import { logger } from '../../shared/logger.js';

/** Options of an {@link SqsEventSource}: the queue, the function, and the mapping's settings. */
export interface SqsEventSourceOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** The function: Lambda's SQS event in, partial batch failures out. */
  readonly handler: SqsBatchHandler;
  /** Most messages per handler call (1..10000); defaults to 10. */
  readonly batchSize?: number;
  /** How long to gather a batch that is not full, from its first message; defaults to 0. */
  readonly batchingWindowMs?: number;
  /** Most handler calls running at once; defaults to 2 (Lambda's smallest maximum concurrency). */
  readonly maxConcurrency?: number;
  /** Long-poll wait of a receive while there is nothing to gather (0..20 s); defaults to 1, which is also how long stop() may wait. */
  readonly pollWaitSeconds?: number;
}

const optionsSchema = z.object({
  queueUrl: z.url(),
  batchSize: z.number().int().min(1).max(10_000).default(10),
  batchingWindowMs: z.number().int().min(0).max(300_000).default(0),
  maxConcurrency: z.number().int().min(1).default(2),
  pollWaitSeconds: z.number().int().min(0).max(20).default(1),
});

// What a received message must carry for Lambda to make a record of it.
const messageSchema = z.object({
  MessageId: z.string(),
  ReceiptHandle: z.string(),
  Body: z.string(),
  MD5OfBody: z.string(),
  Attributes: z
    .object({
      ApproximateReceiveCount: z.string(),
      SentTimestamp: z.string(),
      SenderId: z.string(),
      ApproximateFirstReceiveTimestamp: z.string(),
    })
    .catchall(z.string()),
});

// Lambda fails the whole batch when an itemIdentifier is missing, empty or not one of the batch's ids.
const batchResponseSchema = z.union([
  z.undefined(),
  z.null(),
  z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })).nullish() }),
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const errorText = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

const chunksOf10 = <T>(items: readonly T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / 10) }, (_, i) => items.slice(i * 10, i * 10 + 10));

/**
 * A Lambda event source mapping for an SQS queue (in moto), for tests: it long-polls the queue,
 * gathers up to `batchSize` messages within `batchingWindowMs` over several receives of at most 10,
 * calls the handler with SQS records as Lambda builds them (receipt handles, ApproximateReceiveCount
 * and the other system attributes), at most `maxConcurrency` calls at once, and deletes what
 * succeeded. A failed message (named in `batchItemFailures`, or every message of a batch whose
 * handler threw or answered an invalid response) is left to the visibility timeout and the queue's
 * own redrive policy, exactly as on AWS.
 *
 * As on AWS, the queue's visibility timeout should exceed the batching window plus the handler's time.
 */
export class SqsEventSource {
  readonly #client: SQSClient;
  readonly #handler: SqsBatchHandler;
  readonly #options: z.output<typeof optionsSchema>;
  readonly #running = new Set<Promise<void>>();
  #arn = '';
  #region = '';
  #loop: Promise<void> | undefined;
  #stopping = false;

  constructor(options: SqsEventSourceOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw new Error(`SqsEventSource options: ${describeIssues(parsed.error.issues)}`);
    this.#client = options.client;
    this.#handler = options.handler;
    this.#options = parsed.data;
  }

  /** Reads the queue's ARN (for `eventSourceARN`), then starts polling. */
  async start(): Promise<void> {
    if (this.#loop) throw new Error('SqsEventSource: already started');
    const { Attributes } = await this.#client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.#options.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = z.string().startsWith('arn:').parse(Attributes?.QueueArn);
    this.#arn = arn;
    this.#region = arn.split(':')[3] ?? '';
    this.#loop = this.#run();
  }

  /**
   * Resolves once the queue holds no message (visible, in flight or delayed) and no handler call is
   * running: everything sent has been handled or dead-lettered.
   */
  async idle(pollMs = 100): Promise<void> {
    for (;;) {
      if (this.#running.size === 0) {
        const { Attributes = {} } = await this.#client.send(
          new GetQueueAttributesCommand({
            QueueUrl: this.#options.queueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        );
        const held = Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
        if (held === 0 && this.#running.size === 0) return;
      }
      await sleep(pollMs);
    }
  }

  /**
   * Stops polling: waits for the receive under way (at most `pollWaitSeconds`), makes visible again
   * what it brought, and waits for the handler calls that are running.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    await Promise.allSettled([...this.#running]);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (this.#running.size >= this.#options.maxConcurrency) {
        await Promise.race(this.#running);
        continue;
      }
      const messages = await this.#gather();
      if (this.#stopping) {
        await this.#handBack(messages);
        break;
      }
      if (messages.length > 0) this.#dispatch(messages);
    }
  }

  async #gather(): Promise<Message[]> {
    const { batchSize, batchingWindowMs, pollWaitSeconds } = this.#options;
    const batch: Message[] = [];
    let windowEndsAt: number | undefined;
    while (!this.#stopping && batch.length < batchSize) {
      const remainingMs = windowEndsAt === undefined ? Infinity : windowEndsAt - performance.now();
      if (remainingMs <= 0) break;
      // Long-poll for a first message; within the window, never wait past its end.
      const waitSeconds = Math.min(pollWaitSeconds, Math.floor(remainingMs / 1000));
      const received = await this.#receive(Math.min(10, batchSize - batch.length), waitSeconds);
      batch.push(...received);
      if (batch.length > 0 && windowEndsAt === undefined) {
        if (batchingWindowMs === 0) break;
        windowEndsAt = performance.now() + batchingWindowMs;
      }
      if (received.length === 0 && waitSeconds === 0) await sleep(Math.min(remainingMs, 50));
    }
    return batch;
  }

  async #receive(max: number, waitSeconds: number): Promise<Message[]> {
    try {
      const { Messages = [] } = await this.#client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#options.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          // The older name of the same thing, for servers that only know it.
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      return Messages;
    } catch (error) {
      if (!this.#stopping) logger.warn('SqsEventSource: receive failed', { error: errorText(error) });
      await sleep(200);
      return [];
    }
  }

  #dispatch(messages: readonly Message[]): void {
    const run = this.#handle(messages).finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  async #handle(messages: readonly Message[]): Promise<void> {
    let records: SQSRecord[];
    let response: unknown;
    try {
      records = messages.map((m) => this.#record(m));
      // Through a promise, so that a handler that throws synchronously counts as a failed batch.
      response = await Promise.resolve().then(() => this.#handler({ Records: records }));
    } catch (error) {
      logger.warn('SqsEventSource: the batch failed; all of it will be delivered again', {
        messages: messages.length,
        error: errorText(error),
      });
      return;
    }
    const parsed = batchResponseSchema.safeParse(response);
    const failures = parsed.success ? (parsed.data?.batchItemFailures ?? []) : undefined;
    const ids = new Set(records.map((r) => r.messageId));
    if (!failures || failures.some((f) => !ids.has(f.itemIdentifier))) {
      logger.warn('SqsEventSource: invalid batchItemFailures; the whole batch failed', {
        messages: records.length,
      });
      return;
    }
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    await this.#delete(records.filter((r) => !failed.has(r.messageId)));
  }

  async #delete(records: readonly SQSRecord[]): Promise<void> {
    for (const chunk of chunksOf10(records)) {
      try {
        const { Failed = [] } = await this.#client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#options.queueUrl,
            Entries: chunk.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
        if (Failed.length > 0) {
          logger.warn('SqsEventSource: some deletes failed', { failed: Failed.map((f) => f.Code) });
        }
      } catch (error) {
        logger.warn('SqsEventSource: delete failed', { error: errorText(error) });
      }
    }
  }

  // Lambda would finish the batch; a stopped test source has no one to give it to.
  async #handBack(messages: readonly Message[]): Promise<void> {
    for (const chunk of chunksOf10(messages)) {
      await this.#client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.#options.queueUrl,
            Entries: chunk.map((m, i) => ({
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => undefined);
    }
  }

  #record(message: Message): SQSRecord {
    const parsed = messageSchema.safeParse(message);
    if (!parsed.success) {
      throw new Error(`SqsEventSource: received message: ${describeIssues(parsed.error.issues)}`);
    }
    const m = parsed.data;
    const messageAttributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
        ...(value.BinaryValue === undefined
          ? {}
          : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
        stringListValues: [],
        binaryListValues: [],
      };
    }
    return {
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: m.Attributes,
      messageAttributes,
      md5OfBody: m.MD5OfBody,
      ...(message.MD5OfMessageAttributes === undefined
        ? {}
        : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
      eventSource: 'aws:sqs',
      eventSourceARN: this.#arn,
      awsRegion: this.#region,
    };
  }
}
