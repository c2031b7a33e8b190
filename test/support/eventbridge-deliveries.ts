import type { SQSEvent } from 'aws-lambda';

/** moto's account, which EventBridge would name in every event it delivers. */
const motoAccount = '123456789012';

/**
 * An event moto's EventBridge delivered to a queue, completed where moto departs from EventBridge
 * (moto 5.x): its default input template leaves `account` out, which EventBridge always sends and
 * Powertools' EventBridge schema requires. What moto does send is kept as it is.
 */
export const asEventBridgeSendsIt = (delivered: unknown): unknown =>
  typeof delivered === 'object' && delivered !== null && !('account' in delivered)
    ? { ...delivered, account: motoAccount }
    : delivered;

/** An SQS event whose bodies are EventBridge events moto delivered, each completed by {@link asEventBridgeSendsIt}. */
export const withEventBridgeBodies = (event: SQSEvent): SQSEvent => ({
  ...event,
  Records: event.Records.map((record) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      return record; // not an event: the handler says so
    }
    return { ...record, body: JSON.stringify(asEventBridgeSendsIt(body)) };
  }),
});
