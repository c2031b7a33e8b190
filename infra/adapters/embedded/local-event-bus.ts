import type { BusEvent, EventBus } from '../../../shared/ports/event-bus.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { toEnvelope, type EventBridgeEnvelope } from '../../../shared/events/bus-event.js';
import { newId } from '../../../shared/ids.js';

/** A rule's target: receives the event as EventBridge delivers it to a Lambda. */
export type BusTarget = (event: EventBridgeEnvelope) => void;

/**
 * EventBridge on one machine: rules match on source and detail-type and hand the enveloped event to
 * their target. Delivery is asynchronous, as with EventBridge; retries are the target's business.
 */
export class LocalEventBus implements EventBus {
  readonly #rules: { source: string; detailType: string; target: BusTarget }[] = [];

  constructor(private readonly clock: Clock) {}

  /** Adds a rule: events of this source and detail-type go to the target. */
  on(source: string, detailType: string, target: BusTarget): void {
    this.#rules.push({ source, detailType, target });
  }

  async publish(event: BusEvent): Promise<void> {
    const envelope = toEnvelope(event, {
      id: newId(this.clock),
      time: this.clock.now(),
      region: 'local',
      account: '000000000000',
    });
    for (const rule of this.#rules) {
      if (rule.source === event.source && rule.detailType === event.detailType) rule.target(envelope);
    }
  }
}
