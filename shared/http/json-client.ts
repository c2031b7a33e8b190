import { formatDuration } from '../format-duration.js';
import pRetry from 'p-retry';
import type * as z from 'zod';
import type { Clock } from '../ports/clock.js';
import {
  CircuitOpenError,
  InvalidRecordError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
} from '../errors.js';
import { parseOrThrow } from '../parse.js';
import { httpSend, type HttpAnswer } from './http-send.js';
import type { CircuitBreakers, EndpointBreaker, Span } from './circuit-breaker.js';
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
  /**
   * What the request is, for error messages, and the endpoint whose breaker it goes through
   * ("GET /v1/tracks"): a stable name, never with an id in it.
   */
  readonly what: string;
  /**
   * The ids the request asks about: failures that one of them could explain alone do not switch the
   * endpoint off (shared/http/circuit-breaker.ts).
   */
  readonly ids?: readonly string[];
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
 * worth retrying, and turns every failure into one of chartflow's errors. With `breakers`, each
 * endpoint's attempts go through its circuit breaker: an open endpoint fails at once with
 * `CircuitOpenError`, and retries stop as soon as it opens.
 */
export class JsonClient {
  constructor(
    readonly provider: string,
    private readonly counter: RequestCounter,
    private readonly clock: Clock,
    private readonly policy: RetryPolicy = defaultRetryPolicy,
    /** The provider's limiter, shared with its other clients in the process; none means no limit. */
    private readonly limiter?: RateLimiter,
    /** The process's breakers, shared with the provider's other clients; none means no breaker. */
    private readonly breakers?: CircuitBreakers,
  ) {}

  async request<T>(request: JsonRequest<T>): Promise<T> {
    const breaker = this.breakers?.for(this.provider, request.what);
    let failedAt: number | undefined;
    return pRetry(
      async () => {
        // The backoff since the last failed attempt is time the endpoint cost.
        if (breaker && failedAt !== undefined)
          throwIf(breaker.spend({ from: failedAt, to: this.#now() }, 'backoff'));
        const probe = breaker?.admit() === 'probe';
        try {
          return await this.#attempt(request, breaker, probe);
        } catch (error) {
          failedAt = this.#now();
          throw error;
        }
      },
      {
        retries: this.policy.retries,
        minTimeout: this.policy.minTimeoutMs,
        maxTimeout: this.policy.maxTimeoutMs,
        randomize: true,
        // An open endpoint is not asked again in place: the caller goes to the next provider.
        shouldRetry: ({ error }) => error instanceof ProviderError && !(error instanceof CircuitOpenError),
      },
    );
  }

  async #attempt<T>(
    request: JsonRequest<T>,
    breaker: EndpointBreaker | undefined,
    probe: boolean,
  ): Promise<T> {
    let waitedMs = 0;
    for (;;) {
      // Set when the request leaves, after its wait for the limiter (and for a token): what
      // happened before is not the endpoint's doing.
      let sentAt: number | undefined;
      try {
        const response = await this.#send(request, () => {
          // It may have opened while this request waited for the limiter.
          if (!probe) breaker?.ensureClosed();
          sentAt = this.#now();
        });
        if (response.status === 429) {
          this.counter.recordThrottled(this.provider);
          const waitMs = parseRetryAfter(response.header('retry-after') ?? null, this.clock.now());
          const body = response.text;
          if (waitedMs + waitMs > this.policy.maxInlineWaitMs || body.includes('QUOTA_EXCEEDED')) {
            throw new RateLimitedError(
              this.provider,
              waitMs,
              `${this.provider} ${request.what}: rate limited for ${formatDuration(waitMs)}`,
            );
          }
          // A 429 is no failure (a quota is not an outage), but its wait holds the run.
          const now = this.#now();
          throwIf(
            breaker?.spend({ from: now, to: now + waitMs }, `rate limited for ${formatDuration(waitMs)}`),
          );
          await this.clock.sleep(waitMs);
          waitedMs += waitMs;
          continue;
        }
        const value = this.#read(request, response);
        breaker?.answered({ from: sentAt!, to: this.#now() });
        return value;
      } catch (error) {
        if (breaker && sentAt !== undefined)
          judge(breaker, error, { from: sentAt, to: this.#now() }, request);
        throw error;
      }
    }
  }

  #now(): number {
    return this.clock.now().getTime();
  }

  async #send(request: JsonRequest<unknown>, onSend: () => void): Promise<HttpAnswer> {
    const send = async () => {
      const authorization = request.authorize ? await request.authorize() : {};
      onSend();
      this.counter.record(this.provider);
      try {
        return await httpSend(request.url, {
          // Stryker disable next-line StringLiteral: Node's http client sends an empty method as GET
          method: request.method ?? 'GET',
          headers: { accept: 'application/json', ...request.headers, ...authorization },
          body: request.body,
          timeoutMs: 30_000,
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

  #read<T>(request: JsonRequest<T>, response: HttpAnswer): T {
    const { text } = response;
    const where = `${this.provider} ${request.what}`;
    if (response.status >= 500) {
      throw new ProviderError(this.provider, `${where}: HTTP ${response.status}`, response.status);
    }
    if (response.status === 401) throw new UnauthorizedError(this.provider, `${where}: HTTP 401`);
    if (response.status < 200 || response.status > 299) {
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

const throwIf = (error: Error | undefined): void => {
  if (error) throw error;
};

/**
 * What a failed attempt tells an endpoint's breaker: a 5xx, a network error, a timeout or a
 * malformed answer is a failure; a 4xx is an answer (the endpoint works, the request was refused);
 * a 429 is neither. Throws `CircuitOpenError` instead when this failure opened the endpoint.
 */
const judge = (breaker: EndpointBreaker, error: unknown, span: Span, request: JsonRequest<unknown>): void => {
  if (error instanceof CircuitOpenError || error instanceof RateLimitedError) return;
  if (error instanceof ProviderRejectedError) return breaker.answered(span);
  if (error instanceof ProviderError || error instanceof InvalidRecordError) {
    const message = error.message.replace(`${breaker.provider} ${request.what}: `, '');
    throwIf(breaker.failed(message, span, request.ids));
  }
};
