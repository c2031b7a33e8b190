import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { ConfigError, PermanentError, RetryableError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { BusEvent, EventBus } from '../../../shared/ports/event-bus.js';
import { awsError } from './aws-errors.js';

/** Options of an {@link EventBridgeEventBus}. */
export interface EventBridgeEventBusOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: EventBridgeClient;
  /** The bus's name or ARN. */
  readonly eventBusName: string;
}

const optionsSchema = z.object({
  client: z.instanceof(EventBridgeClient, { message: 'must be an EventBridgeClient' }),
  eventBusName: z.string().min(1),
});

const answerSchema = z.object({
  FailedEntryCount: z.number().int().nonnegative().default(0),
  Entries: z
    .array(
      z.object({
        EventId: z.string().optional(),
        ErrorCode: z.string().optional(),
        ErrorMessage: z.string().optional(),
      }),
    )
    .default([]),
});

// The entry error codes EventBridge documents as not worth another try (PutEventsResultEntry):
// the same entry would fail again. Any other code (InternalFailure, ThrottlingException, one not
// documented yet) is tried again.
const refusedCodes = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

/**
 * Publishes domain events to an EventBridge bus with PutEvents; the bus's rules route them. A
 * failed entry (EventBridge reports those in the answer, not as an error) throws a
 * {@link RetryableError}, so that the work that published it is done again; an entry EventBridge
 * refuses for good (`InvalidArgument`, `MalformedDetail`, a missing permission) throws a
 * {@link PermanentError}, as a failed request does unless it is throttled or a server fault.
 */
export class EventBridgeEventBus implements EventBus {
  /** The bus's name or ARN. */
  readonly eventBusName: string;
  readonly #client: EventBridgeClient;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: EventBridgeEventBusOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'EventBridgeEventBus options', ConfigError);
    this.#client = parsed.client;
    this.eventBusName = parsed.eventBusName;
  }

  /**
   * PutEvents with one entry: `source`, `detailType`, and `detail` as JSON.
   *
   * @throws {RetryableError} if EventBridge reports the entry failed, naming its error code and message.
   * @throws {PermanentError} if EventBridge refuses the entry for good, or the request (a missing bus).
   */
  async publish(event: BusEvent): Promise<void> {
    const what = `EventBridge PutEvents "${event.detailType}" from ${event.source} to ${this.eventBusName}`;
    let answer;
    try {
      answer = await this.#client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.eventBusName,
              Source: event.source,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail ?? {}),
            },
          ],
        }),
      );
    } catch (error) {
      throw awsError(what, error);
    }
    const parsed = parseOrThrow(answerSchema, answer, what);
    if (parsed.FailedEntryCount === 0) return;
    const failed = parsed.Entries.filter((e) => e.ErrorCode !== undefined);
    const reasons = failed.map((e) => `${e.ErrorCode}: ${e.ErrorMessage ?? '(no message)'}`).join('; ');
    if (failed.length > 0 && failed.every((e) => refusedCodes.has(e.ErrorCode ?? ''))) {
      throw new PermanentError(`${what}: EventBridge refused the entry: ${reasons}`);
    }
    throw new RetryableError(`${what}: the entry failed: ${reasons || 'no reason given'}`);
  }
}
