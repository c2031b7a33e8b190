import { z } from 'zod';
import { describeIssues, InvalidRecordError } from '../errors.js';
import type { BusEvent } from '../ports/event-bus.js';

/** An EventBridge event as a Lambda target receives it (the fields chartflow reads). */
export interface EventBridgeEnvelope<D = unknown> {
  readonly version: '0';
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly account: string;
  readonly region: string;
  readonly time: string;
  readonly resources: string[];
  readonly detail: D;
}

const envelopeSchema = z.object({ source: z.string(), 'detail-type': z.string(), detail: z.unknown() });

/** Reads the detail of an EventBridge event of the expected type with its schema. */
export const detailOf = <D>(event: unknown, detailType: string, schema: z.ZodType<D>): D => {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success)
    throw new InvalidRecordError(`EventBridge event: ${describeIssues(envelope.error.issues)}`);
  if (envelope.data['detail-type'] !== detailType) {
    throw new InvalidRecordError(
      `EventBridge event: expected "${detailType}", got "${envelope.data['detail-type']}"`,
    );
  }
  const detail = schema.safeParse(envelope.data.detail);
  if (!detail.success)
    throw new InvalidRecordError(`${detailType} detail: ${describeIssues(detail.error.issues)}`);
  return detail.data;
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
