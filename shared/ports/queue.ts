/** One message to send; `id` is unique within a batch (SQS `SendMessageBatch` entry id). */
export interface OutgoingMessage {
  readonly id: string;
  readonly body: string;
}

/**
 * The sending side of a queue: SQS on AWS (`SqsQueue`), an in-process queue on one machine
 * (`MemoryQueue`). Delivery to consumers is the event source mapping's business, not the port's.
 */
export interface Queue {
  /** Sends messages; the adapter splits them into the batches its service accepts. */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Hides a received message for `timeoutSeconds` from now (SQS `ChangeMessageVisibility`, at most
   * 12 hours): how work that a provider refused for a long while waits in the queue, visible as a
   * backlog, instead of coming back at every visibility timeout. A stale receipt handle changes nothing.
   */
  changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void>;
}
