import pRetry from 'p-retry';
import type { z } from 'zod';
import type { Clock } from '../ports/clock.js';
import { ProviderError, ProviderRejectedError, RateLimitedError } from '../errors.js';
import { parseOrThrow } from '../parse.js';
import type { RequestCounter } from './request-counter.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * How the provider clients (Spotify, ReccoBeats, through {@link JsonClient}) retry a request: a 5xx
 * answer, a network error or a garbled body is retried `retries` times with jittered exponential
 * backoff; a 429 is waited out in place, up to `maxInlineWaitMs`. Other answers (a 4xx, an answer
 * of the wrong shape) are never retried: they would come back the same.
 */
export interface RetryPolicy {
  /** Retries of a 5xx, network error or garbled body, with jittered exponential backoff. */
  readonly retries: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /**
   * How long one request may sleep on 429s, in all: a wait that would go past it is handed back as
   * `RateLimitedError` (the queue delivers the work later), so a provider that keeps answering 429
   * cannot hold a Lambda until it times out.
   */
  readonly maxInlineWaitMs: number;
}

/** The provider clients' retries when a client is given none. */
export const defaultRetryPolicy: RetryPolicy = {
  retries: 4,
  minTimeoutMs: 200,
  maxTimeoutMs: 5_000,
  maxInlineWaitMs: 10_000,
};

export interface JsonRequest<T> {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  /**
   * Headers read at the moment the request is sent, after its wait for the rate limiter: how a
   * bearer token goes out fresh even when the request queued longer than the token had left.
   */
  readonly authorize?: () => Promise<Record<string, string>>;
  readonly body?: string;
  /** The answer's schema; an answer that does not match is an `InvalidRecordError` naming the field. */
  readonly schema: z.ZodType<T>;
  /** What the request is, for error messages ("GET /v1/tracks"). */
  readonly what: string;
}

/** A 401 the caller may answer by renewing its token. */
export class UnauthorizedError extends ProviderRejectedError {
  constructor(provider: string, message: string) {
    super(provider, 401, message);
    this.name = 'UnauthorizedError';
  }
}

/** Retry-After is seconds or an HTTP date; a missing or unreadable one means "a second". */
export const parseRetryAfter = (value: string | null, now: Date): number => {
  if (!value) return 1_000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - now.getTime());
};

/**
 * JSON over HTTP for one provider: counts every request, validates every answer, retries what is
 * worth retrying, and turns every failure into one of chartflow's errors.
 */
export class JsonClient {
  constructor(
    readonly provider: string,
    private readonly counter: RequestCounter,
    private readonly clock: Clock,
    private readonly policy: RetryPolicy = defaultRetryPolicy,
    /** The provider's limiter, shared with its other clients in the process; none means no limit. */
    private readonly limiter?: RateLimiter,
  ) {}

  async request<T>(request: JsonRequest<T>): Promise<T> {
    return pRetry(() => this.#attempt(request), {
      retries: this.policy.retries,
      minTimeout: this.policy.minTimeoutMs,
      maxTimeout: this.policy.maxTimeoutMs,
      randomize: true,
      shouldRetry: ({ error }) => error instanceof ProviderError,
    });
  }

  async #attempt<T>(request: JsonRequest<T>): Promise<T> {
    let waitedMs = 0;
    for (;;) {
      const response = await this.#send(request);
      if (response.status === 429) {
        const waitMs = parseRetryAfter(response.headers.get('retry-after'), this.clock.now());
        const body = await response.text();
        if (waitedMs + waitMs > this.policy.maxInlineWaitMs || body.includes('QUOTA_EXCEEDED')) {
          throw new RateLimitedError(
            this.provider,
            waitMs,
            `${this.provider} ${request.what}: rate limited for ${waitMs} ms`,
          );
        }
        await this.clock.sleep(waitMs);
        waitedMs += waitMs;
        continue;
      }
      return this.#read(request, response);
    }
  }

  async #send(request: JsonRequest<unknown>): Promise<Response> {
    const send = async () => {
      const authorization = request.authorize ? await request.authorize() : {};
      this.counter.record(this.provider);
      try {
        return await fetch(request.url, {
          method: request.method ?? 'GET',
          headers: { accept: 'application/json', ...request.headers, ...authorization },
          body: request.body,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        throw new ProviderError(
          this.provider,
          `${this.provider} ${request.what}: ${(error as Error).message}`,
          undefined,
          {
            cause: error,
          },
        );
      }
    };
    return this.limiter ? this.limiter.schedule(send) : send();
  }

  async #read<T>(request: JsonRequest<T>, response: Response): Promise<T> {
    const text = await response.text();
    const where = `${this.provider} ${request.what}`;
    if (response.status >= 500) {
      throw new ProviderError(this.provider, `${where}: HTTP ${response.status}`, response.status);
    }
    if (response.status === 401) throw new UnauthorizedError(this.provider, `${where}: HTTP 401`);
    if (!response.ok) {
      throw new ProviderRejectedError(
        this.provider,
        response.status,
        `${where}: HTTP ${response.status} ${text.slice(0, 200)}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      // A truncated or garbled body is most often a proxy or a transient fault: worth another try.
      throw new ProviderError(this.provider, `${where}: the answer is not JSON`, response.status, {
        cause: error,
      });
    }
    // Not JSON is retried above; JSON of the wrong shape is not (`InvalidRecordError`): it would
    // come back the same.
    return parseOrThrow(request.schema, json, `${where}: unexpected answer`);
  }
}
