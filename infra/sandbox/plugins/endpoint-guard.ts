import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../../shared/ports/clock.js';
import { ProviderAnswerError, spotifyError } from '../errors.js';
import type { SandboxFaults, ServerErrorStatus } from '../faults.js';
import type { RollingWindowGate } from '../rolling-window-gate.js';
import { endpointProvider, type SandboxEndpoint, type SandboxProvider, type SandboxStats } from '../stats.js';
import type { AccessTokens } from './access-tokens.js';
import type { ProviderErrorOf } from './provider-errors.js';

/**
 * What every endpoint does before its answer, in this order: count, authenticate (Spotify's Web
 * API), quota, rate limit (Spotify counts per app, ReccoBeats per caller: one window each), slow,
 * server errors. Malformed JSON comes after the answer (`cutShort`).
 */

/** What the guard reads and counts. */
export interface EndpointGuardParts {
  readonly stats: SandboxStats;
  readonly faults: SandboxFaults;
  readonly tokens: AccessTokens;
  /** Each provider's rate limit, when it has one. */
  readonly gates: Readonly<Record<SandboxProvider, RollingWindowGate | undefined>>;
  readonly clock: Pick<Clock, 'now'>;
  readonly errorOf: ProviderErrorOf;
  /** Aborted on close, so that answers a `slow` fault holds back do not hold the server open. */
  readonly closing: AbortSignal;
}

/** The hooks of one endpoint's route. */
export interface EndpointHooks {
  readonly onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  readonly onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
}

/** The route options that guard an endpoint. */
export type GuardOf = (endpoint: SandboxEndpoint) => EndpointHooks;

// Spotify's own messages for the injected 5xx other than 500 ("Server error", as it answers that one).
const statusText: Readonly<Record<Exclude<ServerErrorStatus, 500>, string>> = {
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Whole seconds, rounded up so that waiting as told is always enough. */
const retryAfterOf = (waitMs: number) => String(Math.max(1, Math.ceil(waitMs / 1000)));

/** Refuses a request without a valid bearer token, as Spotify's Web API does. */
const authenticate = ({ tokens, stats }: EndpointGuardParts, request: FastifyRequest, nowMs: number) => {
  const refusal = tokens.refusalOf(request.headers.authorization, nowMs);
  if (refusal === undefined) return;
  stats.recordUnauthorized();
  throw spotifyError(401, refusal);
};

/** Refuses a request a `quotaExceeded` fault covers: a long Retry-After, `"reason": "QUOTA_EXCEEDED"`. */
const refuseOverQuota = (
  { faults, stats, errorOf }: EndpointGuardParts,
  endpoint: SandboxEndpoint,
  request: FastifyRequest,
  nowMs: number,
) => {
  const provider = endpointProvider[endpoint];
  const quotaSeconds = faults.quotaRetryAfter(provider, endpoint, nowMs);
  if (quotaSeconds === undefined) return;
  stats.record(provider, 'quotaExceeded');
  throw errorOf(provider, request, 429, 'Quota exceeded', {
    extra: { reason: 'QUOTA_EXCEEDED' },
    headers: { 'retry-after': String(quotaSeconds) },
  });
};

/** Refuses a request the provider's rate limit has no room for, with the wait in Retry-After. */
const refuseOverRateLimit = (
  { gates, stats, errorOf }: EndpointGuardParts,
  endpoint: SandboxEndpoint,
  request: FastifyRequest,
  nowMs: number,
) => {
  const provider = endpointProvider[endpoint];
  // The accounts service is not rate limited.
  const waitMs = endpoint === 'token' ? undefined : gates[provider]?.admit(nowMs);
  if (waitMs === undefined) return;
  stats.recordRateLimited(provider);
  throw errorOf(
    provider,
    request,
    429,
    provider === 'spotify' ? 'API rate limit exceeded' : 'Too many requests',
    {
      headers: { 'retry-after': retryAfterOf(waitMs) },
    },
  );
};

/** Holds the answer back when a `slow` fault says so (in real time: it tries the client's timeouts). */
const slowDown = async ({ faults, stats, closing }: EndpointGuardParts, endpoint: SandboxEndpoint) => {
  const provider = endpointProvider[endpoint];
  const delayMs = faults.takeDelay(provider, endpoint);
  if (delayMs === undefined) return;
  stats.record(provider, 'slowed');
  await sleep(delayMs, undefined, { signal: closing }).catch(() => undefined);
};

/** Fails the request when a `serverErrors` fault says so, in the endpoint's own error shape. */
const failOnServerError = (
  { faults, stats, errorOf }: EndpointGuardParts,
  endpoint: SandboxEndpoint,
  request: FastifyRequest,
) => {
  const provider = endpointProvider[endpoint];
  const status = faults.takeServerError(provider, endpoint);
  if (status === undefined) return;
  stats.record(provider, 'serverErrors');
  // The accounts service speaks OAuth's error shape, even when it fails.
  if (endpoint === 'token') {
    throw new ProviderAnswerError(status, { error: 'server_error', error_description: 'Server error' });
  }
  throw errorOf(provider, request, status, status === 500 ? 'Server error' : statusText[status]);
};

/** Builds the guard of every endpoint of one sandbox. */
export const endpointGuard = (parts: EndpointGuardParts): GuardOf => {
  const { stats, faults, clock } = parts;

  const guard = (endpoint: SandboxEndpoint) =>
    async function guardRoute(request: FastifyRequest, _reply: FastifyReply) {
      stats.recordRequest(endpoint);
      const nowMs = clock.now().getTime();
      if (endpointProvider[endpoint] === 'spotify' && endpoint !== 'token')
        authenticate(parts, request, nowMs);
      refuseOverQuota(parts, endpoint, request, nowMs);
      refuseOverRateLimit(parts, endpoint, request, nowMs);
      await slowDown(parts, endpoint);
      failOnServerError(parts, endpoint, request);
    };

  /** A 200 cut in half when a `malformedJson` fault says so: it still claims to be JSON. */
  const cutShort = (endpoint: SandboxEndpoint) => {
    const provider = endpointProvider[endpoint];
    return async function cutShortBody(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      if (reply.statusCode !== 200 || typeof payload !== 'string') return payload;
      if (!faults.takeMalformed(provider, endpoint)) return payload;
      stats.record(provider, 'malformedJson');
      return payload.slice(0, Math.floor(payload.length / 2));
    };
  };

  return (endpoint) => ({ onRequest: guard(endpoint), onSend: cutShort(endpoint) });
};
