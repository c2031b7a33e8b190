/** A domain event as EventBridge carries it. */
export interface BusEvent<D = unknown> {
  readonly source: string;
  readonly detailType: string;
  readonly detail: D;
}

/** EventBridge on AWS (`EventBridgeEventBus`); an in-process router on one machine. */
export interface EventBus {
  publish(event: BusEvent): Promise<void>;
}
