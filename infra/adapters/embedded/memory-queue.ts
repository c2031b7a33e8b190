import { createHash, randomUUID } from 'node:crypto';
import { randomToken } from './random-tokens.js';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { ConfigError, InvalidRecordError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { logger } from '../../../shared/logger.js';
import type { OutgoingMessage, Queue } from '../../../shared/ports/queue.js';

/** A consumer as Lambda runs it for an SQS event source: partial failures by message id. */
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

/** Options of a {@link MemoryQueue}: the queue's own settings and its event source mapping's. */
export interface MemoryQueueOptions {
  /** The queue name, as in its ARN. */
  readonly name: string;
  /** Most messages per handler call (1..10000); defaults to 10. */
  readonly batchSize?: number;
  /** How long to wait for a batch to fill before handing over a partial one; defaults to 0. */
  readonly batchingWindowMs?: number;
  /** How long a received message stays hidden before it is delivered again; defaults to 30000. */
  readonly visibilityTimeoutMs?: number;
  /** Receives after which a failing message goes to `deadLetterQueue` (the redrive policy); needs it. */
  readonly maxReceiveCount?: number;
  /** Where messages go after `maxReceiveCount` receives; needs `maxReceiveCount`. */
  readonly deadLetterQueue?: MemoryQueue;
  /** Most handler calls running at once; defaults to 2 (Lambda's minimum maximum concurrency). */
  readonly maxConcurrency?: number;
  /** The region in ARNs and records; defaults to `us-east-1`. */
  readonly region?: string;
  /** The account in ARNs and records; defaults to `000000000000`. */
  readonly accountId?: string;
  /**
   * Local seconds per second a consumer asks for in `changeVisibility`; defaults to 1. One machine
   * compresses the pipeline's own hand-backs (a busy warehouse's minute) by its time scale
   * (infra/local/time-scale.ts), while a provider's Retry-After stays real time (1).
   */
  readonly handBackTimeScale?: number;
}

/** How many messages a queue holds, as SQS's ApproximateNumberOfMessages(NotVisible) report them. */
export interface QueueDepth {
  /** Messages ready to be received. */
  readonly visible: number;
  /** Messages received and hidden until their visibility timeout ends. */
  readonly inFlight: number;
  /** Batches a handler is working on now. */
  readonly running: number;
  /** Milliseconds until the next hidden message becomes visible, if any is hidden. */
  readonly nextVisibleInMs: number | undefined;
}

/** A copy of a message in a queue, for inspection (a dead-letter queue's, mostly). */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** Times it has been received, here and in any queue it was redriven from. */
  readonly receiveCount: number;
  /** Epoch milliseconds when it was first sent. */
  readonly sentTimestamp: number;
  /** The queue it was redriven from, if it came here as a dead letter. */
  readonly deadLetterQueueSourceArn?: string;
}

const optionsSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, "-" or "_"'),
    batchSize: z.number().int().min(1).max(10_000).default(10),
    batchingWindowMs: z.number().int().min(0).max(300_000).default(0),
    visibilityTimeoutMs: z.number().int().min(0).max(43_200_000).default(30_000),
    maxReceiveCount: z.number().int().min(1).max(1000).optional(),
    deadLetterQueue: z
      .custom<MemoryQueue>((v) => v instanceof MemoryQueue, 'must be a MemoryQueue')
      .optional(),
    maxConcurrency: z.number().int().min(1).default(2),
    handBackTimeScale: z.number().positive().max(1).default(1),
    region: z.string().min(1).default('us-east-1'),
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be 12 digits')
      .default('000000000000'),
  })
  .refine((o) => (o.maxReceiveCount === undefined) === (o.deadLetterQueue === undefined), {
    message: 'maxReceiveCount and deadLetterQueue go together (an SQS redrive policy needs both)',
    path: ['deadLetterQueue'],
  });

// SQS refuses bodies outside these characters, and bodies over 1 MiB.
const sqsBodyCharacters = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
const maxBodyBytes = 1_048_576;

const messagesSchema = z.array(
  z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, "-" or "_"'),
    body: z
      .string()
      .regex(sqsBodyCharacters, 'must be non-empty and hold only characters SQS accepts')
      .refine((b) => Buffer.byteLength(b) <= maxBodyBytes, 'must be at most 1 MiB'),
  }),
);

// Lambda fails the whole batch when an itemIdentifier is missing, empty or not one of the batch's ids.
const batchResponseSchema = z.union([
  z.undefined(),
  z.null(),
  z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })).nullish() }),
]);

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentTimestamp: number;
  readonly deadLetterQueueSourceArn?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** When it can be received again, on the monotonic clock ({@link monotonicNow}). */
  visibleAt: number;
  /** Only the latest receive's handle deletes the message, as in SQS. */
  receiptHandle?: string;
}

type Options = z.output<typeof optionsSchema>;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * Visibility is timed on the monotonic clock, as the timers that wake the queue are: a wall clock
 * set back (NTP, a resumed machine) would otherwise hide every in-flight message for as long as it
 * went back. Only the epoch timestamps SQS reports in a record's attributes use the wall clock.
 */
const monotonicNow = () => performance.now();

/**
 * An SQS standard queue and the Lambda event source mapping that drains it, in one process.
 * It keeps the semantics handlers rely on: batches of up to `batchSize` gathered over a batching
 * window, a visibility timeout after which an unfinished message is delivered again (at least
 * once, even while the first delivery still runs), partial batch failures, and redrive to a
 * dead-letter queue after `maxReceiveCount` receives. Delays and FIFO are not modelled.
 * Written here because no in-process queue library models SQS's visibility timeout, receive counts
 * and redrive together with an event source mapping's batching and partial batch responses.
 */
export class MemoryQueue implements Queue {
  /** The queue's ARN, as `eventSourceARN` carries it. */
  readonly arn: string;
  readonly #options: Options;
  readonly #messages = new Map<string, StoredMessage>();
  #handler: SqsBatchHandler | undefined;
  #running = 0;
  #windowTimer: NodeJS.Timeout | undefined;
  #windowElapsed = false;
  #visibilityTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: MemoryQueueOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'MemoryQueue options', ConfigError);
    if (parsed.deadLetterQueue?.name === parsed.name) {
      throw new ConfigError(`MemoryQueue options: queue ${parsed.name} cannot be its own dead-letter queue`);
    }
    this.#options = parsed;
    this.arn = `arn:aws:sqs:${parsed.region}:${parsed.accountId}:${parsed.name}`;
  }

  /** The queue name. */
  get name(): string {
    return this.#options.name;
  }

  /**
   * Enqueues messages; each gets a new message id. Sending none does nothing.
   *
   * @throws {InvalidRecordError} if two messages share an id (SQS BatchEntryIdsNotDistinct), or an
   *   id or body is one SQS would refuse. Nothing is enqueued then.
   */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const parsed = parseOrThrow(messagesSchema, messages, this.name, InvalidRecordError);
    const ids = new Set<string>();
    for (const { id } of parsed) {
      if (ids.has(id))
        throw new InvalidRecordError(`${this.name}: BatchEntryIdsNotDistinct: id "${id}" is repeated`);
      ids.add(id);
    }
    const sentTimestamp = Date.now();
    const now = monotonicNow();
    for (const { body } of parsed) {
      const messageId = randomUUID();
      this.#messages.set(messageId, {
        messageId,
        body,
        md5OfBody: md5(body),
        sentTimestamp,
        receiveCount: 0,
        visibleAt: now,
      });
    }
    this.#pump();
  }

  /**
   * Starts delivering messages to `handler`, as a Lambda event source mapping does: a message the
   * handler returns in `batchItemFailures`, or every message of a batch whose handler throws, is
   * delivered again once its visibility timeout ends; the others are deleted.
   *
   * @throws {Error} if the queue already has a subscriber.
   */
  subscribe(handler: SqsBatchHandler): void {
    if (this.#handler) throw new Error(`${this.name}: already has a subscriber; stop() it first`);
    this.#handler = handler;
    this.#pump();
  }

  /** Stops delivering and clears every timer; batches already running finish on their own. */
  stop(): void {
    this.#handler = undefined;
    this.#clearWindow();
    clearTimeout(this.#visibilityTimer);
    this.#visibilityTimer = undefined;
  }

  /** How many messages are ready and how many are hidden after a receive. */
  depth(): QueueDepth {
    const now = monotonicNow();
    let visible = 0;
    let nextVisibleAt = Infinity;
    for (const message of this.#messages.values()) {
      if (message.visibleAt <= now) visible += 1;
      else nextVisibleAt = Math.min(nextVisibleAt, message.visibleAt);
    }
    return {
      visible,
      inFlight: this.#messages.size - visible,
      running: this.#running,
      nextVisibleInMs: nextVisibleAt === Infinity ? undefined : nextVisibleAt - now,
    };
  }

  /**
   * SQS `ChangeMessageVisibility`: hides the message received with this handle for `timeoutSeconds`
   * from now, on the queue's `handBackTimeScale`.
   */
  async changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void> {
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > 43_200) {
      throw new RangeError(`a visibility timeout is 0 to 43200 seconds, not ${timeoutSeconds}`);
    }
    for (const message of this.#messages.values()) {
      if (message.receiptHandle !== receiptHandle) continue;
      message.visibleAt =
        monotonicNow() + Math.round(timeoutSeconds * 1000 * this.#options.handBackTimeScale);
      this.#armVisibilityTimer();
      return;
    }
  }

  /** Copies of every message the queue holds, visible or not, oldest first. */
  peek(): QueuedMessage[] {
    return [...this.#messages.values()].map((m) => ({
      messageId: m.messageId,
      body: m.body,
      md5OfBody: m.md5OfBody,
      receiveCount: m.receiveCount,
      sentTimestamp: m.sentTimestamp,
      ...(m.deadLetterQueueSourceArn === undefined
        ? {}
        : { deadLetterQueueSourceArn: m.deadLetterQueueSourceArn }),
    }));
  }

  /**
   * Resolves once the queue holds no message and no batch is running: everything sent has been
   * handled or dead-lettered. Never resolves while messages wait without a subscriber.
   */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#messages.size === 0 && this.#running === 0;
  }

  #settle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // Hands out batches while there is capacity; called whenever something changes (a send, a
  // finished batch, a timer), so that nothing polls.
  #pump(): void {
    while (this.#handler && this.#running < this.#options.maxConcurrency) {
      const visible = this.depth().visible;
      if (visible === 0) break;
      if (visible < this.#options.batchSize && this.#options.batchingWindowMs > 0 && !this.#windowElapsed) {
        this.#windowTimer ??= setTimeout(() => {
          this.#windowTimer = undefined;
          this.#windowElapsed = true;
          this.#pump();
        }, this.#options.batchingWindowMs);
        break;
      }
      this.#clearWindow();
      const records = this.#receive();
      if (records.length > 0) this.#dispatch(this.#handler, records);
    }
    this.#armVisibilityTimer();
    this.#settle();
  }

  #clearWindow(): void {
    clearTimeout(this.#windowTimer);
    this.#windowTimer = undefined;
    this.#windowElapsed = false;
  }

  #receive(): SQSRecord[] {
    const now = monotonicNow();
    const { batchSize, maxReceiveCount, deadLetterQueue, visibilityTimeoutMs } = this.#options;
    const records: SQSRecord[] = [];
    for (const message of this.#messages.values()) {
      if (records.length === batchSize) break;
      if (message.visibleAt > now) continue;
      // SQS redrives on the receive that would exceed maxReceiveCount, not on the last failure.
      if (deadLetterQueue && maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount) {
        this.#messages.delete(message.messageId);
        deadLetterQueue.#accept({
          ...message,
          deadLetterQueueSourceArn: this.arn,
          visibleAt: now,
          receiptHandle: undefined,
        });
        logger.warn('Message moved to the dead-letter queue', {
          queue: this.name,
          messageId: message.messageId,
        });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= Date.now();
      message.visibleAt = now + visibilityTimeoutMs;
      message.receiptHandle = randomToken(24, 'base64');
      records.push(this.#record(message));
    }
    return records;
  }

  #accept(message: StoredMessage): void {
    this.#messages.set(message.messageId, message);
    this.#pump();
  }

  #record(message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentTimestamp),
        SenderId: this.#options.accountId,
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
        ...(message.deadLetterQueueSourceArn
          ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn }
          : {}),
      },
      messageAttributes: {},
      md5OfBody: message.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.#options.region,
    };
  }

  #dispatch(handler: SqsBatchHandler, records: SQSRecord[]): void {
    this.#running += 1;
    // Through a promise, so that a handler that throws synchronously counts as a failed batch.
    Promise.resolve()
      .then(() => handler({ Records: records }))
      .then(
        (response) => this.#deleteSucceeded(records, response),
        (error: unknown) =>
          logger.warn('Batch failed; its messages will be delivered again', {
            queue: this.name,
            messages: records.length,
            error: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => {
        this.#running -= 1;
        this.#pump();
      });
  }

  #deleteSucceeded(records: readonly SQSRecord[], response: unknown): void {
    const parsed = batchResponseSchema.safeParse(response);
    const failures = parsed.success ? (parsed.data?.batchItemFailures ?? []) : undefined;
    const ids = new Set(records.map((r) => r.messageId));
    if (!failures || failures.some((f) => !ids.has(f.itemIdentifier))) {
      logger.warn('Invalid batchItemFailures: the whole batch failed', {
        queue: this.name,
        messages: records.length,
      });
      return;
    }
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    for (const record of records) {
      const message = this.#messages.get(record.messageId);
      // A stale receipt handle (the message was delivered again meanwhile) deletes nothing.
      if (!failed.has(record.messageId) && message?.receiptHandle === record.receiptHandle) {
        this.#messages.delete(record.messageId);
      }
    }
  }

  #armVisibilityTimer(): void {
    clearTimeout(this.#visibilityTimer);
    this.#visibilityTimer = undefined;
    if (!this.#handler) return;
    const now = monotonicNow();
    let next = Infinity;
    for (const message of this.#messages.values())
      if (message.visibleAt > now) next = Math.min(next, message.visibleAt);
    if (next === Infinity) return;
    this.#visibilityTimer = setTimeout(
      () => {
        this.#visibilityTimer = undefined;
        this.#pump();
      },
      Math.ceil(next - now),
    );
  }
}
