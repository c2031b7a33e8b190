import { randomUUID } from 'node:crypto';
import { isRetryable } from '../../shared/errors.js';
import type { AsyncFailureCondition, AsyncFailureRecord } from '../../shared/events/async-failure.js';
import type { Clock } from '../../shared/ports/clock.js';
import { logger } from '../../shared/logger.js';
import { topology, type AsyncRetryPolicy } from '../topology.js';
import { scaledRetry } from './time-scale.js';

/** An invocation that failed for good, as an on-failure destination would receive it. */
export interface FailedInvocation {
  readonly functionName: string;
  readonly attempts: number;
  readonly error: string;
  readonly event: unknown;
  readonly condition: AsyncFailureCondition;
}

/** Lambda's asynchronous invocation settings on one machine, in local milliseconds. */
export interface AsyncInvokePolicy extends AsyncRetryPolicy {
  /** An event older than this (since its first attempt) is not tried again; absent: no limit. */
  readonly maximumEventAgeMs?: number;
}

/** Where a failed invocation's record goes: the on-failure destination (a queue, on one machine too). */
export type FailureDestination = (record: AsyncFailureRecord) => Promise<void>;

/**
 * Lambda's asynchronous invocation on one machine: the caller does not wait; a failed invocation is
 * retried by the topology's policy (two retries; a permanent error is not retried; an event older
 * than the maximum age is not tried again), then its record (Lambda's own destination record) goes
 * to the on-failure destination, and stays in `failures` for the run's summary. Never dropped.
 */
export class AsyncInvoker {
  readonly #inFlight = new Set<Promise<void>>();
  /** Every invocation that failed for good, as sent to the destination. */
  readonly failures: FailedInvocation[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly policy: AsyncInvokePolicy = scaledRetry(topology.asyncRetry),
    private readonly destination?: FailureDestination,
  ) {}

  invoke<E>(functionName: string, handler: (event: E) => Promise<unknown>, event: E): void {
    const invocation = this.#run(functionName, handler, event).finally(() =>
      this.#inFlight.delete(invocation),
    );
    this.#inFlight.add(invocation);
  }

  get pending(): number {
    return this.#inFlight.size;
  }

  /** Resolves when no invocation is under way, including those that started while waiting. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Invokes with the same retries, but waits for the answer: how the CLI stands in for the
   * schedule, which needs to know the run it started. A failure goes to the destination, and is thrown.
   */
  async invokeAndWait<E, R>(functionName: string, handler: (event: E) => Promise<R>, event: E): Promise<R> {
    const firstMs = this.clock.now().getTime();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await handler(event);
      } catch (error) {
        const condition = this.#givesUp(attempt, error, firstMs);
        if (condition) {
          await this.#fail(
            { functionName, attempts: attempt, error: (error as Error).message, event, condition },
            error,
          );
          throw error;
        }
        await this.clock.sleep(this.policy.delayMs(attempt));
      }
    }
  }

  /** Why Lambda would not try again after this failed attempt, if it would not. */
  #givesUp(attempt: number, error: unknown, firstMs: number): AsyncFailureCondition | undefined {
    if (attempt >= this.policy.maxAttempts || !isRetryable(error)) return 'RetriesExhausted';
    const { maximumEventAgeMs } = this.policy;
    const nextMs = this.clock.now().getTime() + this.policy.delayMs(attempt);
    if (maximumEventAgeMs !== undefined && nextMs - firstMs > maximumEventAgeMs) return 'EventAgeExceeded';
    return undefined;
  }

  async #fail(failure: FailedInvocation, error: unknown): Promise<void> {
    this.failures.push(failure);
    if (!this.destination) return;
    const record: AsyncFailureRecord = {
      version: '1.0',
      timestamp: this.clock.now().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:local:000000000000:function:${failure.functionName}:$LATEST`,
        condition: failure.condition,
        approximateInvokeCount: failure.attempts,
      },
      requestPayload: failure.event,
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: { errorType: (error as Error).name, errorMessage: failure.error },
    };
    // A destination that fails is said, not thrown: the failure itself is kept in `failures`.
    await this.destination(record).catch((sendError: unknown) =>
      logger.error(
        `the on-failure destination refused ${failure.functionName}'s failure`,
        sendError as Error,
      ),
    );
  }

  async #run<E>(functionName: string, handler: (event: E) => Promise<unknown>, event: E): Promise<void> {
    // The failure is at its destination already: an asynchronous caller has no one to throw it to.
    await this.invokeAndWait(functionName, handler, event).catch(() => undefined);
  }
}
