import { CircuitOpenError } from '../errors.js';
import type { Clock } from '../ports/clock.js';

/**
 * How much trouble one provider endpoint may cause before it is switched off
 * (docs/reliability.md, "Failing providers").
 */
export interface BreakerSettings {
  /** Failed HTTP attempts in a row (p-retry's retries included) that open an endpoint. */
  readonly failures: number;
  /**
   * Time an endpoint may cost in trouble (failed attempts, backoff between them, inline 429 waits,
   * slow answers) before it opens, whatever its answers.
   */
  readonly budgetMs: number;
  /**
   * How long an open endpoint stays open before one request may probe it; `Infinity` keeps it open
   * for the rest of the process (one machine: the rest of the run).
   */
  readonly coolDownMs: number;
  /** An answer slower than this counts its whole time against the budget: a healthy one takes far less. */
  readonly slowAnswerMs: number;
}

/** One machine's defaults: a run lasts minutes, so an endpoint that opened stays open until it ends. */
export const defaultBreakerSettings: BreakerSettings = {
  failures: 5,
  budgetMs: 180_000,
  coolDownMs: Number.POSITIVE_INFINITY,
  slowAnswerMs: 5_000,
};

/**
 * On Lambda a container lives for hours across many invocations: an endpoint switched off for its
 * whole life would stay off long after the provider recovered. Five minutes is longer than one
 * invocation may run (300 s), so an invocation that met the outage does not spend itself on it,
 * and short enough that the next batches of the day probe the provider again. One request probes;
 * an answer closes the breaker (and its budget starts again), a failure opens it for five more.
 */
export const awsBreakerCoolDownMs = 300_000;

/** An endpoint that is open, as the run summary and the logs name it. */
export interface OpenBreaker {
  /** Provider and endpoint: "spotify GET /v1/tracks". */
  readonly endpoint: string;
  /** Why it opened: "open after 5 failures", or "spent its 180 s". */
  readonly reason: string;
  /** The last failure before it opened. */
  readonly lastError: string;
  /** When it opened (ISO). */
  readonly openedAt: string;
}

type Listener = (opened: OpenBreaker) => void;

/** A stretch of time, in epoch milliseconds, that an endpoint cost. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/**
 * The breaker of one provider endpoint. A 429 is neither a failure nor an answer: a quota or a
 * rate limit is not an outage, and the caller records it as such (`RateLimitedError`, missing
 * `quota`); only the time waited on it counts against the budget.
 */
export class EndpointBreaker {
  #failures = 0;
  /**
   * The ids every failure in a row so far asked for: while one id could explain them all, they are
   * blamed on that id, not on the endpoint. Bisection (services/track-attributes/enrichment/bisect.ts)
   * isolates an id that breaks every call by asking ever smaller batches that all hold it; that must
   * not switch the endpoint off for every other track. An outage fails calls that share no id.
   */
  #suspects: Set<string> | undefined;
  #spentMs = 0;
  /** The end of the last stretch counted: requests side by side cost the time they overlap once. */
  #countedUntil = 0;
  #lastError = '';
  #opened: OpenBreaker | undefined;
  /** When the endpoint was last tried while open (its opening, or a probe). */
  #triedAt = 0;

  constructor(
    readonly provider: string,
    readonly endpoint: string,
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly onOpen: Listener,
  ) {}

  get open(): OpenBreaker | undefined {
    return this.#opened;
  }

  /**
   * Lets a request go, or throws at once when the endpoint is open. After the cool-down one
   * request goes through as a probe (`probe`); the others still fail at once.
   *
   * @throws {CircuitOpenError} naming the endpoint and the failure that opened it
   */
  admit(): 'closed' | 'probe' {
    // Stryker disable next-line StringLiteral: its one caller (json-client.ts) only tells 'probe' apart from anything else
    if (!this.#opened) return 'closed';
    const now = this.clock.now().getTime();
    if (now - this.#triedAt >= this.settings.coolDownMs) {
      this.#triedAt = now;
      return 'probe';
    }
    throw this.#error();
  }

  /**
   * Throws when the endpoint is open: checked again as a request leaves, since it may have opened
   * while the request waited for the rate limiter.
   *
   * @throws {CircuitOpenError}
   */
  ensureClosed(): void {
    if (this.#opened) throw this.#error();
  }

  /**
   * An answer came (a 2xx, or a 4xx that says something about the request): the endpoint works,
   * and the failures before it no longer explain anything. While open, only a request sent at or
   * after the opening (the probe) closes it.
   */
  answered(span: Span): void {
    this.#failures = 0;
    this.#suspects = undefined;
    this.#lastError = '';
    if (this.#opened) {
      // A request that left before the endpoint opened (or before its last probe) says nothing of
      // now: requests side by side were still on their way when it opened.
      if (span.from < this.#triedAt) return;
      // A probe's answer: the provider is back.
      this.#opened = undefined;
      this.#spentMs = 0;
      return;
    }
    const tookMs = span.to - span.from;
    if (tookMs > this.settings.slowAnswerMs) this.spend(span, `an answer took ${tookMs} ms`);
  }

  /**
   * An attempt failed (5xx, network error, timeout, malformed answer) over `span`, asking
   * for `ids` (none: the request names no id). Returns the error to throw instead when this
   * failure opened the endpoint.
   */
  failed(message: string, span: Span, ids: readonly string[] = []): CircuitOpenError | undefined {
    this.#lastError = message;
    if (this.#opened) {
      // A failed probe: open for another cool-down. A request that left before the opening or
      // the last probe failing late moves nothing.
      if (span.from >= this.#triedAt) this.#triedAt = this.clock.now().getTime();
      return this.#error();
    }
    this.#failures += 1;
    this.#suspects =
      ids.length === 0
        ? new Set()
        : new Set(this.#suspects ? ids.filter((id) => this.#suspects!.has(id)) : ids);
    if (this.#failures >= this.settings.failures && this.#suspects.size === 0) {
      return this.#trip(`open after ${this.#failures} failures`);
    }
    return this.spend(span, message);
  }

  /**
   * Time the endpoint cost in trouble (a failed attempt, a backoff, a 429 wait, a slow answer):
   * the budget counts wall time, so ten requests waiting side by side for a second cost a second.
   * Returns the error to throw instead when it spent the budget.
   */
  spend(span: Span, why: string): CircuitOpenError | undefined {
    if (this.#opened) return undefined;
    this.#spentMs += Math.max(0, span.to - Math.max(span.from, this.#countedUntil));
    this.#countedUntil = Math.max(this.#countedUntil, span.to);
    if (this.#spentMs <= this.settings.budgetMs) return undefined;
    this.#lastError ||= why;
    return this.#trip(`spent its ${this.settings.budgetMs / 1000} s`);
  }

  #trip(reason: string): CircuitOpenError {
    const now = this.clock.now();
    this.#triedAt = now.getTime();
    this.#opened = {
      endpoint: `${this.provider} ${this.endpoint}`,
      reason,
      lastError: this.#lastError,
      openedAt: now.toISOString(),
    };
    this.onOpen(this.#opened);
    return this.#error();
  }

  #error(): CircuitOpenError {
    const opened = this.#opened!;
    return new CircuitOpenError(this.provider, this.endpoint, `${opened.reason}; ${opened.lastError}`);
  }
}

/**
 * Every endpoint's breaker in one process, shared by all the clients of a provider (built with the
 * providers: infra/providers/build-providers.ts). Endpoints are named as the clients name their
 * requests ("GET /v1/tracks"), never with ids, so that every call of an endpoint shares its breaker.
 */
export class CircuitBreakers {
  readonly #breakers = new Map<string, EndpointBreaker>();
  readonly #listeners: Listener[] = [];
  readonly settings: BreakerSettings;

  constructor(
    private readonly clock: Clock,
    settings: Partial<BreakerSettings> = {},
  ) {
    this.settings = { ...defaultBreakerSettings, ...settings };
  }

  /** The breaker of one endpoint of a provider, made on first use. */
  for(provider: string, endpoint: string): EndpointBreaker {
    const key = `${provider} ${endpoint}`;
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      breaker = new EndpointBreaker(provider, endpoint, this.settings, this.clock, (opened) => {
        for (const listener of this.#listeners) listener(opened);
      });
      this.#breakers.set(key, breaker);
    }
    return breaker;
  }

  /** Calls `listener` each time an endpoint opens (a warning in the logs, a progress line). */
  onOpen(listener: Listener): void {
    this.#listeners.push(listener);
  }

  /** The endpoints open now, in the order they were first used. */
  opened(): OpenBreaker[] {
    return [...this.#breakers.values()].flatMap((b) => (b.open ? [b.open] : []));
  }
}
