import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../shared/ports/clock.js';
import { isoDate } from '../../shared/lake/keys.js';
import { createCatalog, type Catalog, type CatalogTrack } from './catalog.js';
import { ProviderAnswerError, reccobeatsError, spotifyError } from './errors.js';
import { SandboxFaults, type ServerErrorStatus } from './faults.js';
import {
  accessModeSchema,
  playlistEntries,
  playlistRefusal,
  sandboxPlaylist,
  type AccessMode,
} from './playlists.js';
import { rateLimitSchema, rollingWindowLimiter, type RateLimiter } from './rate-limit.js';
import {
  reccobeatsAudioFeaturesObject,
  reccobeatsKnowsTrack,
  reccobeatsMaxIds,
  reccobeatsTrackObject,
  spotifyIdForReccobeatsId,
  type ReccobeatsContext,
} from './reccobeats-objects.js';
import {
  audioFeaturesObject,
  pagingObject,
  playlistItemObject,
  trackObject,
  type ObjectContext,
} from './spotify-objects.js';
import { endpointProvider, SandboxStats, type SandboxEndpoint, type SandboxProvider } from './stats.js';

/**
 * The sandbox server: the Spotify accounts and Web API endpoints that chartflow calls, and the
 * ReccoBeats endpoints it calls, answered from the synthetic catalog with each provider's shapes,
 * status codes and error bodies.
 *
 *   POST {accountsUrl}/api/token                     client credentials → bearer token
 *   GET  {apiUrl}/playlists/{id}/items               a playlist's entries, paged (limit ≤ 50): a chart,
 *                                                    or the catalog sample (tracks on no chart that day)
 *   GET  {apiUrl}/tracks?ids=…                       up to 50 full track objects (extended only)
 *   GET  {apiUrl}/tracks/{id}                        one full track object
 *   GET  {apiUrl}/audio-features?ids=…               up to 100 audio features objects (extended only)
 *   GET  {reccobeatsUrl}/track?ids=…                 ReccoBeats tracks (no auth; ≤ 40 ids honoured)
 *   GET  {reccobeatsUrl}/audio-features?ids=…        ReccoBeats audio features (idem)
 *
 * Spotify answers according to the access mode (see playlists.ts for what each mode allows, and
 * the sources). Because it serves history, every request to either provider may name its day in
 * the `x-chartflow-as-of` header (default: today, UTC); the day decides the chart (and the catalog
 * sample, which leaves out what charts that day), the artists'
 * names and popularity, and tracks released after it do not exist yet.
 */

/** The request header that sets the day an answer is given as of (`YYYY-MM-DD`). */
export const asOfHeader = 'x-chartflow-as-of';

/** Where the ReccoBeats look-alike lives on the sandbox (ReccoBeats: `https://api.reccobeats.com`). */
export const reccobeatsPathPrefix = '/reccobeats';

export const sandboxOptionsSchema = z.object({
  /** 0 (the default) asks the system for a free port. */
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  tokenTtlSeconds: z.number().int().positive().default(3600),
  /** Spotify's rolling-window limit on the Web API; off unless given. */
  rateLimit: rateLimitSchema.optional(),
  /** ReccoBeats's own rolling-window limit; off unless given. */
  reccobeatsRateLimit: rateLimitSchema.optional(),
  /** The Spotify app's access level; `setAccessMode` changes it while the sandbox runs. */
  accessMode: accessModeSchema.default('extended'),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  /** The as-of day when a request names none; defaults to the clock's UTC date. */
  today: z.custom<() => string>((v) => typeof v === 'function', 'today must be a function').optional(),
  /**
   * Token expiry, the rate limits and quota faults read this clock; tests may pin it. A `slow`
   * fault waits in real time whatever the clock, since it is the client's real timeouts it tries.
   */
  clock: z
    .custom<Pick<Clock, 'now'>>(
      (v) => typeof v === 'object' && v !== null && typeof (v as { now?: unknown }).now === 'function',
      'clock must have now()',
    )
    .optional(),
});

export type SandboxOptions = z.input<typeof sandboxOptionsSchema>;

/** A running sandbox. */
export interface Sandbox {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  /** Where `POST /api/token` lives (Spotify: `https://accounts.spotify.com`). */
  readonly accountsUrl: string;
  /** The Web API base, ending in `/v1` (Spotify: `https://api.spotify.com/v1`). */
  readonly apiUrl: string;
  /** The ReccoBeats API base, ending in `/v1` (ReccoBeats: `https://api.reccobeats.com/v1`). */
  readonly reccobeatsUrl: string;
  readonly port: number;
  /** The only client credentials the token endpoint accepts. */
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  readonly stats: SandboxStats;
  /** Faults to switch on while it runs. */
  readonly faults: SandboxFaults;
  /** The catalog behind the answers, for tests to compare with. */
  readonly catalog: Catalog;
  /** The Spotify app's access mode now. */
  readonly accessMode: AccessMode;
  /** Changes the Spotify app's access mode; it applies from the next request. */
  setAccessMode(mode: AccessMode): void;
  close(): Promise<void>;
}

const base62Id = z.string().regex(/^[0-9A-Za-z]{22}$/);
const queryParam = z.string().optional();
const pageQuerySchema = z.object({ limit: queryParam, offset: queryParam, ids: queryParam });
const limitSchema = z.coerce.number().int().min(1).max(50).default(20);
const offsetSchema = z.coerce.number().int().min(0).default(0);
const tokenFormSchema = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});
// ReccoBeats takes `ids=a,b,c` as well as `ids=a&ids=b&ids=c` ("Request And Response").
const reccobeatsQuerySchema = z.object({ ids: z.union([z.string(), z.array(z.string())]).optional() });
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Building a catalog takes a few hundred milliseconds; servers with the same seed share one.
const catalogs = new Map<string, Catalog>();
const catalogFor = (seed: number | string): Catalog => {
  const key = String(seed);
  const existing = catalogs.get(key);
  if (existing) return existing;
  const created = createCatalog({ seed });
  catalogs.set(key, created);
  return created;
};

/** Deterministic per seed, 32 hex characters like Spotify's; they guard nothing real. */
const defaultCredential = (seed: number | string, what: string) =>
  createHash('sha256')
    .update(`chartflow-sandbox:${what}:${String(seed)}`)
    .digest('hex')
    .slice(0, 32);

const parseBasicAuth = (header: string | undefined): { id: string; secret: string } | undefined => {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
};

// Spotify's own messages for the injected 5xx other than 500 ("Server error", as it answers that one).
const statusText: Readonly<Record<Exclude<ServerErrorStatus, 500>, string>> = {
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Whole seconds, rounded up so that waiting as told is always enough. */
const retryAfterOf = (waitMs: number) => String(Math.max(1, Math.ceil(waitMs / 1000)));

/** The path as the real provider sees it: ReccoBeats's own `/v1/…`, without the query. */
const apiPathOf = (request: FastifyRequest) => {
  const path = request.url.split('?')[0] ?? '';
  return path.startsWith(reccobeatsPathPrefix) ? path.slice(reccobeatsPathPrefix.length) : path;
};

/** Starts a sandbox; resolves once it listens. */
export const startSandbox = async (options: SandboxOptions = {}): Promise<Sandbox> => {
  const opts = sandboxOptionsSchema.parse(options);
  const catalog = catalogFor(opts.seed);
  const clock = opts.clock ?? { now: () => new Date() };
  const today = opts.today ?? (() => clock.now().toISOString().slice(0, 10));
  const credentials = {
    clientId: opts.clientId ?? defaultCredential(opts.seed, 'client-id'),
    clientSecret: opts.clientSecret ?? defaultCredential(opts.seed, 'client-secret'),
  };
  const stats = new SandboxStats();
  const faults = new SandboxFaults(() => clock.now().getTime());
  const limiters: Record<SandboxProvider, RateLimiter | undefined> = {
    spotify: opts.rateLimit && rollingWindowLimiter(opts.rateLimit),
    reccobeats: opts.reccobeatsRateLimit && rollingWindowLimiter(opts.reccobeatsRateLimit),
  };
  const tokens = new Map<string, number>();
  // Aborted on close, so that answers a `slow` fault holds back do not hold the server open.
  const closing = new AbortController();
  let accessMode: AccessMode = opts.accessMode;
  let apiUrl = '';

  const app = Fastify({ logger: false });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ProviderAnswerError) {
      return reply.code(error.status).headers(error.headers).send(error.body);
    }
    // Fastify's own refusals (unsupported media type, bad body…) keep their status.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = status >= 500 ? 'Server error.' : (error as Error).message;
    const answer = request.url.startsWith(`${reccobeatsPathPrefix}/`)
      ? reccobeatsError(status, clock.now(), apiPathOf(request), message)
      : spotifyError(status, message);
    return reply.code(status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const answer = request.url.startsWith(`${reccobeatsPathPrefix}/`)
      ? reccobeatsError(404, clock.now(), apiPathOf(request), 'No static resource found.')
      : spotifyError(404, 'Service not found');
    return reply.code(404).send(answer.body);
  });

  // ---- what every endpoint does before its answer, in this order: count, authenticate (Spotify's
  // Web API), quota, rate limit (Spotify counts per app, ReccoBeats per caller: one window each),
  // slow, server errors. Malformed JSON comes after the answer (see `cutShort`).

  const errorOf = (
    provider: SandboxProvider,
    request: FastifyRequest,
    status: number,
    message: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) =>
    provider === 'spotify'
      ? spotifyError(status, message, options)
      : reccobeatsError(status, clock.now(), apiPathOf(request), message, options);

  const authenticate = (nowMs: number, request: FastifyRequest) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      stats.recordUnauthorized();
      throw spotifyError(401, 'No token provided');
    }
    const expiresAt = tokens.get(match[1] as string);
    if (expiresAt === undefined) {
      stats.recordUnauthorized();
      throw spotifyError(401, 'Invalid access token');
    }
    if (expiresAt <= nowMs) {
      stats.recordUnauthorized();
      throw spotifyError(401, 'The access token expired');
    }
  };

  const serverErrorOf = (endpoint: SandboxEndpoint, request: FastifyRequest, status: ServerErrorStatus) => {
    const provider = endpointProvider[endpoint];
    // The accounts service speaks OAuth's error shape, even when it fails.
    if (endpoint === 'token') {
      return new ProviderAnswerError(status, { error: 'server_error', error_description: 'Server error' });
    }
    return errorOf(provider, request, status, status === 500 ? 'Server error' : statusText[status]);
  };

  const guard = (endpoint: SandboxEndpoint) => {
    const provider = endpointProvider[endpoint];
    return async function guardRoute(request: FastifyRequest, _reply: FastifyReply) {
      stats.recordRequest(endpoint);
      const nowMs = clock.now().getTime();
      if (provider === 'spotify' && endpoint !== 'token') authenticate(nowMs, request);

      const quotaSeconds = faults.quotaRetryAfter(provider, endpoint, nowMs);
      if (quotaSeconds !== undefined) {
        stats.record(provider, 'quotaExceeded');
        throw errorOf(provider, request, 429, 'Quota exceeded', {
          extra: { reason: 'QUOTA_EXCEEDED' },
          headers: { 'retry-after': String(quotaSeconds) },
        });
      }

      // The accounts service is not rate limited.
      const waitMs = endpoint === 'token' ? undefined : limiters[provider]?.take(nowMs);
      if (waitMs !== undefined) {
        stats.recordRateLimited(provider);
        throw errorOf(
          provider,
          request,
          429,
          provider === 'spotify' ? 'API rate limit exceeded' : 'Too many requests',
          { headers: { 'retry-after': retryAfterOf(waitMs) } },
        );
      }

      const delayMs = faults.takeDelay(provider, endpoint);
      if (delayMs !== undefined) {
        stats.record(provider, 'slowed');
        await sleep(delayMs, undefined, { signal: closing.signal }).catch(() => undefined);
      }

      const status = faults.takeServerError(provider, endpoint);
      if (status !== undefined) {
        stats.record(provider, 'serverErrors');
        throw serverErrorOf(endpoint, request, status);
      }
    };
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

  const routeOptions = (endpoint: SandboxEndpoint) => ({
    onRequest: guard(endpoint),
    onSend: cutShort(endpoint),
  });

  const asOfOf = (request: FastifyRequest, provider: SandboxProvider): string => {
    const parsed = isoDate.optional().safeParse(request.headers[asOfHeader]);
    if (!parsed.success) {
      throw errorOf(provider, request, 400, `Invalid ${asOfHeader} header: expected a date as YYYY-MM-DD`);
    }
    return parsed.data ?? isoDate.parse(today());
  };

  // ---- accounts: the client credentials flow. Its errors are OAuth's, not the Web API's.
  app.post('/api/token', routeOptions('token'), async (request, reply) => {
    const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = tokenFormSchema.safeParse(isForm ? request.body : {});
    const body = form.success ? form.data : {};
    const basic = parseBasicAuth(request.headers.authorization);
    const id = basic?.id ?? body.client_id;
    const secret = basic?.secret ?? body.client_secret;
    if (body.grant_type === undefined) {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: 'grant_type parameter is missing' });
    }
    if (body.grant_type !== 'client_credentials') {
      return reply.code(400).send({
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be client_credentials (the only flow the sandbox supports)',
      });
    }
    if (id !== credentials.clientId) {
      return reply.code(400).send({ error: 'invalid_client', error_description: 'Invalid client' });
    }
    if (secret !== credentials.clientSecret) {
      return reply.code(400).send({ error: 'invalid_client', error_description: 'Invalid client secret' });
    }
    const nowMs = clock.now().getTime();
    for (const [token, expiresAt] of tokens) if (expiresAt <= nowMs) tokens.delete(token);
    const accessToken = `BQ${randomBytes(60).toString('base64url')}`;
    tokens.set(accessToken, nowMs + opts.tokenTtlSeconds * 1000);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: opts.tokenTtlSeconds };
  });

  // ---- the Spotify Web API

  const contextOf = (request: FastifyRequest): ObjectContext => ({
    catalog,
    apiUrl,
    asOf: asOfOf(request, 'spotify'),
    accessMode,
  });

  /** A refusal of the access mode, counted as such. */
  const restricted = (status: number, message: string | undefined) => {
    stats.record('spotify', 'restricted');
    return spotifyError(status, message);
  };

  const queryOf = (request: FastifyRequest) => {
    const parsed = pageQuerySchema.safeParse(request.query);
    if (!parsed.success) throw spotifyError(400, 'Invalid query: each parameter may be given once');
    return parsed.data;
  };

  /** A track as the day knows it: unknown ids and tracks not yet released are not found. */
  const trackAsOf = (asOf: string, id: string): CatalogTrack | undefined =>
    catalog.isReleased(id, asOf) ? catalog.track(id) : undefined;

  const idsOf = (request: FastifyRequest, max: number): string[] => {
    const { ids } = queryOf(request);
    if (ids === undefined || ids === '') throw spotifyError(400, 'invalid id');
    const list = ids.split(',');
    if (list.length > max) throw spotifyError(400, 'Too many ids requested');
    return list;
  };

  const pathIdOf = (request: FastifyRequest): string => {
    const parsed = z.object({ id: z.string() }).safeParse(request.params);
    return parsed.success ? parsed.data.id : '';
  };

  app.get('/v1/playlists/:id/items', routeOptions('playlistItems'), async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw spotifyError(400, 'Invalid base62 id');
    const playlist = sandboxPlaylist(id);
    if (!playlist) throw spotifyError(404, 'Resource not found');
    const refusal = playlistRefusal(playlist, accessMode);
    if (refusal) throw restricted(refusal.status, refusal.message);
    const query = queryOf(request);
    const limit = limitSchema.safeParse(query.limit);
    if (!limit.success) throw spotifyError(400, 'Invalid limit');
    const offset = offsetSchema.safeParse(query.offset);
    if (!offset.success) throw spotifyError(400, 'Invalid offset');
    const entries = playlistEntries(catalog, playlist, ctx.asOf);
    return pagingObject(`${apiUrl}/playlists/${id}/items`, entries, offset.data, limit.data, (trackId) => {
      const track = catalog.track(trackId);
      if (!track) throw new Error(`catalog is inconsistent: playlist names unknown track ${trackId}`);
      return playlistItemObject(ctx, track, playlist.ownerId);
    });
  });

  app.get('/v1/tracks', routeOptions('tracks'), async (request) => {
    // Removed for Development Mode apps in February 2026; the live API answers this 403
    // (jjdenhertog/spotify-to-plex#131, Googolplexed0/zotify#175).
    if (accessMode === 'development') throw restricted(403, 'Forbidden');
    const ctx = contextOf(request);
    const ids = idsOf(request, 50);
    if (faults.failsTrackLookup(ids)) {
      stats.record('spotify', 'serverErrors');
      throw spotifyError(500, 'Server error');
    }
    // Like Spotify: one entry per id asked, in order; `null` for anything it does not know.
    return {
      tracks: ids.map((id) => {
        const track = trackAsOf(ctx.asOf, id);
        return track ? trackObject(ctx, track) : null;
      }),
    };
  });

  app.get('/v1/tracks/:id', routeOptions('track'), async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw spotifyError(400, 'invalid id');
    if (faults.failsTrackLookup([id])) {
      stats.record('spotify', 'serverErrors');
      throw spotifyError(500, 'Server error');
    }
    const track = trackAsOf(ctx.asOf, id);
    if (!track) throw spotifyError(404, 'non existing id');
    return trackObject(ctx, track);
  });

  app.get('/v1/audio-features', routeOptions('audioFeatures'), async (request) => {
    // Closed to Development Mode apps since 27 Nov 2024; Spotify's 403 carries no message:
    // `{"error":{"status":403}}` (jwilsson/spotify-web-api-php#281, spotipy-dev/spotipy#1173).
    if (accessMode === 'development') throw restricted(403, undefined);
    const ctx = contextOf(request);
    const ids = idsOf(request, 100);
    return {
      audio_features: ids.map((id) => {
        const track = trackAsOf(ctx.asOf, id);
        return track ? audioFeaturesObject(ctx, track) : null;
      }),
    };
  });

  // ---- ReccoBeats (no auth). Its documented behaviour, kept here: `ids` as CSV or repeated; at most
  // 40 honoured, the rest dropped without a word; unknown ids simply absent from `content`, no
  // placeholder; `content` in an order of its own (here: by ReccoBeats id), so a client must map
  // each entry back by the Spotify id at the end of its `href`, never by position.

  const reccobeatsIdsOf = (request: FastifyRequest): string[] => {
    const parsed = reccobeatsQuerySchema.safeParse(request.query);
    const raw = parsed.success ? parsed.data.ids : undefined;
    const ids = [raw ?? []]
      .flat()
      .flatMap((value) => value.split(','))
      .map((id) => id.trim())
      .filter((id) => id !== '');
    if (ids.length === 0) {
      throw reccobeatsError(400, clock.now(), apiPathOf(request), "Required parameter 'ids' is not present.");
    }
    return ids.slice(0, reccobeatsMaxIds);
  };

  /**
   * The tracks ReccoBeats finds for the ids asked (Spotify ids or its own UUIDs): known to it,
   * released by the day, each once.
   */
  const reccobeatsLookup = (request: FastifyRequest, ctx: ReccobeatsContext): CatalogTrack[] => {
    const spotifyIds = reccobeatsIdsOf(request).map((id) =>
      uuidPattern.test(id) ? (spotifyIdForReccobeatsId(catalog, id) ?? id) : id,
    );
    if (faults.failsTrackLookup(spotifyIds, 'reccobeats')) {
      stats.record('reccobeats', 'serverErrors');
      throw reccobeatsError(500, clock.now(), apiPathOf(request), 'Server error');
    }
    const found = new Map<string, CatalogTrack>();
    for (const id of spotifyIds) {
      const track = trackAsOf(ctx.asOf, id);
      if (track && reccobeatsKnowsTrack(catalog, id)) found.set(id, track);
    }
    return [...found.values()];
  };

  const byReccobeatsId = <T extends { id: string }>(items: T[]): T[] =>
    items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const reccobeatsContextOf = (request: FastifyRequest): ReccobeatsContext => ({
    catalog,
    asOf: asOfOf(request, 'reccobeats'),
  });

  app.get(`${reccobeatsPathPrefix}/v1/track`, routeOptions('reccobeatsTracks'), async (request) => {
    const ctx = reccobeatsContextOf(request);
    return {
      content: byReccobeatsId(reccobeatsLookup(request, ctx).map((t) => reccobeatsTrackObject(ctx, t))),
    };
  });

  app.get(
    `${reccobeatsPathPrefix}/v1/audio-features`,
    routeOptions('reccobeatsAudioFeatures'),
    async (request) => {
      const ctx = reccobeatsContextOf(request);
      const features = reccobeatsLookup(request, ctx).flatMap((t) => reccobeatsAudioFeaturesObject(t) ?? []);
      return { content: byReccobeatsId(features) };
    },
  );

  await app.listen({ port: opts.port, host: opts.host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error('the sandbox is not listening on a TCP port');
  }
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${hostPart}:${address.port}`;
  apiUrl = `${url}/v1`;

  return {
    url,
    accountsUrl: url,
    apiUrl,
    reccobeatsUrl: `${url}${reccobeatsPathPrefix}/v1`,
    port: address.port,
    credentials,
    stats,
    faults,
    catalog,
    get accessMode() {
      return accessMode;
    },
    setAccessMode(mode: AccessMode) {
      accessMode = accessModeSchema.parse(mode);
    },
    close: async () => {
      closing.abort();
      await app.close();
    },
  };
};
