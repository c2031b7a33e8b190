import * as z from 'zod';
import {
  endpointProvider,
  sandboxEndpoints,
  sandboxProviders,
  type SandboxEndpoint,
  type SandboxProvider,
} from './stats.js';

/**
 * Faults a test switches on and off while the sandbox runs, per provider and optionally per
 * endpoint. Every fault is deterministic: it fires on counted requests (the next `count`, or every
 * `every`-th), never at random, so a test knows exactly which answer is the faulty one.
 *
 * A fault scoped to a provider alone applies to the provider's API endpoints; Spotify's token
 * endpoint (the accounts service) is only affected when a fault names `endpoint: 'token'`.
 *
 * When several faults could shape one answer, the server asks in this order: quota (429), the
 * provider's rate limit (429), slow (a delay, then the rest), server errors (5xx), the answer
 * itself (access mode, failing track lookups), malformed JSON (a 200 cut short).
 */

/** Where a fault applies: a provider, and optionally one of its endpoints. */
export interface FaultScope {
  readonly provider: SandboxProvider;
  readonly endpoint?: SandboxEndpoint;
}

/** A switched-on fault; `clear()` switches this one off and leaves the others. */
export interface FaultHandle {
  clear(): void;
}

const providerSchema = z.enum(sandboxProviders);
const scopeSchema = z
  .object({
    provider: providerSchema,
    endpoint: z.enum(sandboxEndpoints).optional(),
  })
  .refine((s) => s.endpoint === undefined || endpointProvider[s.endpoint] === s.provider, {
    message: 'endpoint does not belong to provider',
    path: ['endpoint'],
  });

const countSchema = z.number().int().positive().optional();

export const serverErrorsSchema = z.intersection(
  scopeSchema,
  z.object({
    /** Only the next `count` matching requests fail; without it, until cleared. */
    count: countSchema,
    /** Only every `every`-th matching request fails (the `every`-th, the 2×`every`-th…). */
    every: z.number().int().positive().optional(),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).default(500),
  }),
);

export const slowSchema = z.intersection(
  scopeSchema,
  z.object({ delayMs: z.number().int().nonnegative().max(600_000), count: countSchema }),
);

export const malformedJsonSchema = z.intersection(scopeSchema, z.object({ count: countSchema }));

export const quotaExceededSchema = z.intersection(
  scopeSchema,
  z.object({
    /** A day by default: a daily quota. */
    retryAfterSeconds: z.number().int().positive().default(86_400),
  }),
);

const failTrackLookupsSchema = z.object({ provider: providerSchema.default('spotify') });

export type ServerErrorsOptions = z.input<typeof serverErrorsSchema>;
export type SlowOptions = z.input<typeof slowSchema>;
export type MalformedJsonOptions = z.input<typeof malformedJsonSchema>;
export type QuotaExceededOptions = z.input<typeof quotaExceededSchema>;

/** The HTTP status of an injected server error. */
export type ServerErrorStatus = 500 | 502 | 503 | 504;

interface CountedFault {
  readonly scope: FaultScope;
  /** Fires left; `undefined` means until cleared. */
  remaining: number | undefined;
  /** Only every n-th matching request fires; 1 means each. */
  readonly every: number;
  /** Matching requests seen, to place the every n-th. */
  seen: number;
}

interface Quota {
  readonly scope: FaultScope;
  /** When the quota lifts by itself, on the sandbox clock (epoch ms). */
  readonly untilMs: number;
}

const matches = (scope: FaultScope, provider: SandboxProvider, endpoint: SandboxEndpoint): boolean =>
  scope.provider === provider &&
  (scope.endpoint === undefined ? endpoint !== 'token' : scope.endpoint === endpoint);

/**
 * Every matching fault counts the request (so that `every` stays true to its word whatever else is
 * switched on); the first one, in the order they were switched on, that fires answers it and uses
 * up one of its `count`. Spent faults are dropped.
 */
const take = <F extends CountedFault>(
  faults: F[],
  provider: SandboxProvider,
  endpoint: SandboxEndpoint,
): F | undefined => {
  let fired: F | undefined;
  for (const fault of faults) {
    if (!matches(fault.scope, provider, endpoint)) continue;
    fault.seen += 1;
    if (fired || fault.seen % fault.every !== 0) continue;
    if (fault.remaining !== undefined) fault.remaining -= 1;
    fired = fault;
  }
  if (fired?.remaining === 0) faults.splice(faults.indexOf(fired), 1);
  return fired;
};

/**
 * The faults of one sandbox. A track id marked as failing makes every lookup that includes it
 * answer 500, as a provider does for a record it chokes on: the pipeline must isolate it, retry
 * it, and finally dead-letter it with the reason.
 */
export class SandboxFaults {
  readonly #failingTracks: Record<SandboxProvider, Set<string>> = {
    spotify: new Set(),
    reccobeats: new Set(),
  };
  #serverErrors: (CountedFault & { status: ServerErrorStatus })[] = [];
  #slow: (CountedFault & { delayMs: number })[] = [];
  #malformed: CountedFault[] = [];
  #quotas: Quota[] = [];
  readonly #now: () => number;

  /** @param now the sandbox clock in epoch ms, which decides when a quota lifts by itself. */
  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  /**
   * Every track lookup that includes one of these ids answers 500. On Spotify (the default) that is
   * `GET /tracks?ids=` and `GET /tracks/{id}`; on ReccoBeats both `GET /track?ids=` and
   * `GET /audio-features?ids=`, since both look the track up.
   */
  failTrackLookups(ids: Iterable<string>, options: { provider?: SandboxProvider } = {}): void {
    const { provider } = failTrackLookupsSchema.parse(options);
    for (const id of ids) this.#failingTracks[provider].add(id);
  }

  /**
   * 5xx answers (500 unless `status` says otherwise): the next `count` matching requests, every
   * `every`-th one, or (with neither) all of them until cleared.
   */
  serverErrors(options: ServerErrorsOptions): FaultHandle {
    const { provider, endpoint, count, every, status } = serverErrorsSchema.parse(options);
    const fault = { scope: { provider, endpoint }, remaining: count, every: every ?? 1, seen: 0, status };
    this.#serverErrors.push(fault);
    return { clear: () => void (this.#serverErrors = this.#serverErrors.filter((f) => f !== fault)) };
  }

  /** Holds matching answers back by `delayMs` (the next `count` of them, or until cleared). */
  slow(options: SlowOptions): FaultHandle {
    const { provider, endpoint, delayMs, count } = slowSchema.parse(options);
    const fault = { scope: { provider, endpoint }, remaining: count, every: 1, seen: 0, delayMs };
    this.#slow.push(fault);
    return { clear: () => void (this.#slow = this.#slow.filter((f) => f !== fault)) };
  }

  /**
   * Cuts the body of matching 200 answers short, so that it is not valid JSON although it says it
   * is (the next `count` of them, or until cleared). Only successful answers consume a count.
   */
  malformedJson(options: MalformedJsonOptions): FaultHandle {
    const { provider, endpoint, count } = malformedJsonSchema.parse(options);
    const fault = { scope: { provider, endpoint }, remaining: count, every: 1, seen: 0 };
    this.#malformed.push(fault);
    return { clear: () => void (this.#malformed = this.#malformed.filter((f) => f !== fault)) };
  }

  /**
   * A spent daily quota: matching requests answer 429 with `"reason": "QUOTA_EXCEEDED"` and a
   * Retry-After counting down from `retryAfterSeconds` (a day by default), until cleared or until
   * that time has passed on the sandbox clock, as a real quota resets.
   */
  quotaExceeded(options: QuotaExceededOptions): FaultHandle {
    const { provider, endpoint, retryAfterSeconds } = quotaExceededSchema.parse(options);
    const quota = { scope: { provider, endpoint }, untilMs: this.#now() + retryAfterSeconds * 1000 };
    this.#quotas.push(quota);
    return { clear: () => void (this.#quotas = this.#quotas.filter((q) => q !== quota)) };
  }

  /** Back to a healthy sandbox: every fault of every provider off. */
  clear(): void {
    for (const set of Object.values(this.#failingTracks)) set.clear();
    this.#serverErrors = [];
    this.#slow = [];
    this.#malformed = [];
    this.#quotas = [];
  }

  /** @internal Whether a lookup of these ids must fail. */
  failsTrackLookup(ids: readonly string[], provider: SandboxProvider = 'spotify'): boolean {
    const failing = this.#failingTracks[provider];
    return ids.some((id) => failing.has(id));
  }

  /** @internal The seconds to tell in Retry-After if a quota refuses this request. */
  quotaRetryAfter(provider: SandboxProvider, endpoint: SandboxEndpoint, nowMs: number): number | undefined {
    this.#quotas = this.#quotas.filter((q) => q.untilMs > nowMs);
    const quota = this.#quotas.find((q) => matches(q.scope, provider, endpoint));
    // Rounded up, so that waiting as told is always enough.
    return quota && Math.max(1, Math.ceil((quota.untilMs - nowMs) / 1000));
  }

  /** @internal The status of the server error this request must get, if any. */
  takeServerError(provider: SandboxProvider, endpoint: SandboxEndpoint): ServerErrorStatus | undefined {
    return take(this.#serverErrors, provider, endpoint)?.status;
  }

  /** @internal How long to hold this answer back, if at all. */
  takeDelay(provider: SandboxProvider, endpoint: SandboxEndpoint): number | undefined {
    return take(this.#slow, provider, endpoint)?.delayMs;
  }

  /** @internal Whether this (successful) answer must be cut short. */
  takeMalformed(provider: SandboxProvider, endpoint: SandboxEndpoint): boolean {
    return take(this.#malformed, provider, endpoint) !== undefined;
  }
}
