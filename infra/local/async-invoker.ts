import { isRetryable } from '../../shared/errors.js';
import type { Clock } from '../../shared/ports/clock.js';
import { topology, type AsyncRetryPolicy } from '../topology.js';
import { scaledRetry } from './time-scale.js';

/** An invocation that failed for good, as an on-failure destination would receive it. */
export interface FailedInvocation {
  readonly functionName: string;
  readonly attempts: number;
  readonly error: string;
  readonly event: unknown;
}

/**
 * Lambda's asynchronous invocation on one machine: the caller does not wait; a failed invocation is
 * retried by the topology's policy (two retries; a permanent error is not retried), then kept in
 * `failures`, the on-failure destination, never dropped.
 */
export class AsyncInvoker {
  readonly #inFlight = new Set<Promise<void>>();
  /** The on-failure destination: every invocation that failed for good. */
  readonly failures: FailedInvocation[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly policy: AsyncRetryPolicy = scaledRetry(topology.asyncRetry),
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
   * schedule, which needs to know the run it started. A failure is kept in `failures` and thrown.
   */
  async invokeAndWait<E, R>(functionName: string, handler: (event: E) => Promise<R>, event: E): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await handler(event);
      } catch (error) {
        if (attempt >= this.policy.maxAttempts || !isRetryable(error)) {
          this.failures.push({ functionName, attempts: attempt, error: (error as Error).message, event });
          throw error;
        }
        await this.clock.sleep(this.policy.delayMs(attempt));
      }
    }
  }

  async #run<E>(functionName: string, handler: (event: E) => Promise<unknown>, event: E): Promise<void> {
    // The failure is in `failures` already: an asynchronous caller has no one to throw it to.
    await this.invokeAndWait(functionName, handler, event).catch(() => undefined);
  }
}
