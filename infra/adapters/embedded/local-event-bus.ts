import type { BusEvent, EventBus } from '../../../shared/ports/event-bus.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { toEnvelope, type EventBridgeEnvelope } from '../../../shared/events/bus-event.js';
import { newId } from '../../../shared/ids.js';
import type { EventPattern, PatternValue, RuleDeclaration, StackReference } from '../../topology.js';

/** A rule's target: receives the event as EventBridge delivers it. */
export type BusTarget = (event: EventBridgeEnvelope) => void;

/** What the stack's resources an event pattern names are on this machine (the dbt runner's ARNs). */
export type StackReferences = Readonly<Record<StackReference['stack'], string>>;

const isReference = (value: unknown): value is StackReference =>
  typeof value === 'object' && value !== null && 'stack' in value;

/**
 * EventBridge on one machine: rules match events by their declared event pattern (source,
 * detail-type, and detail fields: a literal, a stack resource, or a prefix of either) and hand the
 * enveloped event to their target. Delivery is asynchronous, as with EventBridge; retries are the
 * target's business.
 */
export class LocalEventBus implements EventBus {
  readonly #rules: { rule: Pick<RuleDeclaration, 'bus' | 'pattern'>; target: BusTarget }[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly references: StackReferences,
  ) {}

  /** Adds a rule: events on its bus that its pattern matches go to the target. */
  on(rule: Pick<RuleDeclaration, 'bus' | 'pattern'>, target: BusTarget): void {
    this.#rules.push({ rule, target });
  }

  /** Publishes a domain event on the stack's bus, enveloped as EventBridge does. */
  async publish(event: BusEvent): Promise<void> {
    this.#deliver(
      'stack',
      toEnvelope(event, {
        id: newId(this.clock),
        time: this.clock.now(),
        region: 'local',
        account: '000000000000',
      }),
    );
  }

  /** Puts an event that is already enveloped on the default bus, as an AWS service (ECS) does. */
  putServiceEvent(envelope: EventBridgeEnvelope): void {
    this.#deliver('default', envelope);
  }

  #deliver(bus: RuleDeclaration['bus'], envelope: EventBridgeEnvelope): void {
    for (const { rule, target } of this.#rules) {
      if (rule.bus === bus && this.matches(rule.pattern, envelope)) target(envelope);
    }
  }

  /** Whether an event pattern matches an event, as EventBridge matches the fields chartflow uses. */
  matches(pattern: EventPattern, envelope: EventBridgeEnvelope): boolean {
    if (!pattern.source.includes(envelope.source)) return false;
    if (!pattern['detail-type'].includes(envelope['detail-type'])) return false;
    const detail = (envelope.detail ?? {}) as Record<string, unknown>;
    return Object.entries(pattern.detail ?? {}).every(([field, values]) =>
      values.some((value) => this.#matchesValue(value, detail[field])),
    );
  }

  #matchesValue(value: PatternValue, actual: unknown): boolean {
    if (typeof actual !== 'string') return false;
    if (typeof value === 'string') return actual === value;
    if (isReference(value)) return actual === this.references[value.stack];
    const prefix = isReference(value.prefix) ? this.references[value.prefix.stack] : value.prefix;
    return actual.startsWith(prefix);
  }
}
