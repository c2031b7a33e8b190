import { isRetryable } from '../../shared/errors.js';
import type { Clock } from '../../shared/ports/clock.js';

/** How an asynchronous invocation is retried: Lambda retries twice; an EventBridge target, for much longer. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly delayMs: (attempt: number) => number;
}

export const lambdaAsyncRetry: RetryPolicy = { maxAttempts: 3, delayMs: (attempt) => 200 * attempt };

/** An invocation that failed for good, as an on-failure destination would receive it. */
export interface FailedInvocation {
  readonly functionName: string;
  readonly attempts: number;
  readonly error: string;
  readonly event: unknown;
}

/**
 * Lambda's asynchronous invocation on one machine: the caller does not wait; a failed invocation is
 * retried by its policy (a permanent error is not retried), then kept as a failure, never dropped.
 */
export class AsyncInvoker {
  readonly #inFlight = new Set<Promise<void>>();
  readonly failures: FailedInvocation[] = [];

  constructor(private readonly clock: Clock) {}

  invoke<E>(
    functionName: string,
    handler: (event: E) => Promise<unknown>,
    event: E,
    policy = lambdaAsyncRetry,
  ): void {
    const invocation = this.#run(functionName, handler, event, policy).finally(() =>
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

  async #run<E>(
    functionName: string,
    handler: (event: E) => Promise<unknown>,
    event: E,
    policy: RetryPolicy,
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handler(event);
        return;
      } catch (error) {
        if (attempt >= policy.maxAttempts || !isRetryable(error)) {
          this.failures.push({ functionName, attempts: attempt, error: (error as Error).message, event });
          return;
        }
        await this.clock.sleep(policy.delayMs(attempt));
      }
    }
  }
}
