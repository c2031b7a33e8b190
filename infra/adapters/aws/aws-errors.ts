import { PermanentError, RetryableError, type ChartflowError } from '../../../shared/errors.js';

/** What the AWS SDK v3 puts on the errors it throws (`ServiceException` and its subclasses). */
interface SdkErrorFields {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $retryable?: { readonly throttling?: boolean };
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const fields = (error: unknown): SdkErrorFields =>
  error !== null && typeof error === 'object' ? (error as SdkErrorFields) : {};

// Services that throttle with a 400 rather than a 429/503 name it; the SDK marks most, not all.
const throttlingNames = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/** The error code an AWS service answered (`NoSuchKey`, `ResourceNotFoundException`, …), if any. */
export const awsErrorName = (error: unknown): string | undefined => fields(error).name;

/** The HTTP status of an AWS service's error answer, if the request got an answer. */
export const awsErrorStatus = (error: unknown): number | undefined => fields(error).$metadata?.httpStatusCode;

/**
 * Whether an AWS SDK v3 error is worth another try: throttling, a server fault (5xx), or no answer
 * at all (network failure, timeout). A client fault (4xx) will fail again.
 */
export const isRetryableAwsError = (error: unknown): boolean => {
  const { name, $fault, $retryable, $metadata } = fields(error);
  if ($retryable || $fault === 'server' || (name && throttlingNames.has(name))) return true;
  const status = $metadata?.httpStatusCode;
  // No status: the request never got an answer, so it may well work next time.
  if (status === undefined) return true;
  return status === 429 || status >= 500;
};

/**
 * An AWS SDK error as one of chartflow's: a {@link RetryableError} when {@link isRetryableAwsError}
 * says so, a {@link PermanentError} otherwise. The message starts with `what` (the operation and
 * its target, e.g. `S3 PutObject s3://lake/raw/a.csv`) and keeps the service's code and status;
 * the SDK error is the `cause`.
 */
export const awsError = (what: string, error: unknown): ChartflowError => {
  const { name, message } = fields(error);
  const status = awsErrorStatus(error);
  const detail = [name, status === undefined ? undefined : `(HTTP ${status})`].filter(Boolean).join(' ');
  const text = `${what} failed: ${detail ? `${detail}: ` : ''}${message ?? String(error)}`;
  return isRetryableAwsError(error)
    ? new RetryableError(text, { cause: error })
    : new PermanentError(text, { cause: error });
};
