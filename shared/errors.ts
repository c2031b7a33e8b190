/**
 * chartflow's errors. Every one is either retryable (rethrown, so that SQS or Lambda deliver the
 * work again) or permanent (quarantined or reported with its reason, never retried forever).
 */
export class ChartflowError extends Error {
  /** Whether doing the same work again may succeed. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChartflowError';
  }
}

/** Worth another try later: a 5xx, a network fault, a rate limit, a busy warehouse. */
export class RetryableError extends ChartflowError {
  override readonly retryable: boolean = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Will fail again whatever we do: bad input, a bad answer, a missing setting. */
export class PermanentError extends ChartflowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A setting is missing or malformed; the message names the setting. */
export class ConfigError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** An event, a file or a provider's answer did not match its schema; the message says what and where. */
export class InvalidRecordError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRecordError';
  }
}

/** A provider answered with an error worth retrying (5xx, network). */
export class ProviderError extends RetryableError {
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** A provider refused for now (429); `retryAfterMs` is how long it asked us to wait. */
export class RateLimitedError extends RetryableError {
  constructor(
    readonly provider: string,
    readonly retryAfterMs: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RateLimitedError';
  }
}

/** A provider refused for good (4xx other than 401/429): retrying will not help. */
export class ProviderRejectedError extends PermanentError {
  constructor(
    readonly provider: string,
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProviderRejectedError';
  }
}

/**
 * A provider endpoint's circuit breaker is open: it failed too often in a row, or spent its time
 * budget, so it is not asked again for now (see shared/http). Not retried in place: the caller
 * goes to the next provider that can answer, or records what is missing with the reason.
 */
export class CircuitOpenError extends ProviderError {
  constructor(
    provider: string,
    /** The endpoint, as its breaker is named ("GET /v1/tracks"). */
    readonly endpoint: string,
    /** The failure that opened it. */
    readonly lastError: string,
    options?: ErrorOptions,
  ) {
    super(
      provider,
      `${provider} ${endpoint} is switched off for this run (${lastError})`,
      undefined,
      options,
    );
    this.name = 'CircuitOpenError';
  }
}

/**
 * A command waited its `--wait` for a lock (the home's, or the warehouse's) and gave up: nothing was
 * written. Exit code 2; the message names the holder (PID, command or batch, since when).
 */
export class LockWaitTimeoutError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LockWaitTimeoutError';
  }
}

/** Another transform holds the warehouse; this one waits its turn (invariant 5). */
export class TransformBusyError extends RetryableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransformBusyError';
  }
}

/** Whether an error is worth retrying: ours say so, anything unknown is retried (it may be transient). */
export const isRetryable = (error: unknown): boolean =>
  error instanceof ChartflowError ? error.retryable : true;

/** A zod issue list as one sentence: "field.path: what was wrong; …". */
export const describeIssues = (
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string =>
  issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ');
