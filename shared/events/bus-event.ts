import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type * as z from 'zod';
import { InvalidRecordError } from '../errors.js';
import { parseOrThrow } from '../parse.js';
import type { BusEvent } from '../ports/event-bus.js';

/**
 * An EventBridge event as a Lambda target receives it, with its detail typed: Powertools' schema
 * of the envelope, so that what the local bus builds and what the handlers read are held to the
 * same fields.
 */
export type EventBridgeEnvelope<D = unknown> = Omit<z.output<typeof EventBridgeSchema>, 'detail'> & {
  readonly detail: D;
};

/**
 * Reads the detail of an EventBridge event of the expected type with its schema.
 *
 * @throws {InvalidRecordError} naming the field, when the event is no EventBridge event, is of
 *   another detail type, or its detail does not match the schema
 */
export const detailOf = <D>(event: unknown, detailType: string, schema: z.ZodType<D>): D => {
  const envelope = parseOrThrow(EventBridgeSchema, event, 'EventBridge event');
  if (envelope['detail-type'] !== detailType) {
    throw new InvalidRecordError(
      `EventBridge event: expected "${detailType}", got "${envelope['detail-type']}"`,
    );
  }
  return parseOrThrow(schema, envelope.detail, `${detailType} detail`);
};

/** The envelope EventBridge wraps a published event in. */
export const toEnvelope = <D>(
  event: BusEvent<D>,
  meta: { id: string; time: Date; region: string; account: string },
): EventBridgeEnvelope<D> => ({
  version: '0',
  id: meta.id,
  source: event.source,
  'detail-type': event.detailType,
  account: meta.account,
  region: meta.region,
  time: meta.time.toISOString(),
  resources: [],
  detail: event.detail,
});
