import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../shared/ports/clock.js';
import { isoDate } from '../../shared/lake/keys.js';
import { chartIdForPlaylist, createCatalog, type Catalog, type CatalogTrack } from './catalog.js';
import { rateLimitSchema, rollingWindowLimiter } from './rate-limit.js';
import {
  audioFeaturesObject,
  pagingObject,
  playlistItemObject,
  trackObject,
  type ObjectContext,
} from './spotify-objects.js';
import { SandboxFaults } from './faults.js';
import { SandboxStats, type SandboxEndpoint } from './stats.js';

/**
 * The sandbox server: Spotify's accounts and Web API endpoints that chartflow calls, answered
 * from the synthetic catalog with Spotify's shapes, status codes and error bodies.
 *
 *   POST {accountsUrl}/api/token                     client credentials → bearer token
 *   GET  {apiUrl}/playlists/{id}/items               a chart, as a paged playlist (limit ≤ 50)
 *   GET  {apiUrl}/tracks?ids=…                       up to 50 full track objects
 *   GET  {apiUrl}/tracks/{id}                        one full track object
 *   GET  {apiUrl}/audio-features?ids=…               up to 100 audio features objects
 *
 * Because it serves history, every `/v1` request may name its day in the `x-chartflow-as-of`
 * header (default: today, UTC); the day decides the chart, the artists' names and popularity, and
 * tracks released after it do not exist yet.
 */

/** The request header that sets the day an answer is given as of (`YYYY-MM-DD`). */
export const asOfHeader = 'x-chartflow-as-of';

export const sandboxOptionsSchema = z.object({
  /** 0 (the default) asks the system for a free port. */
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  tokenTtlSeconds: z.number().int().positive().default(3600),
  /** Off unless given. */
  rateLimit: rateLimitSchema.optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  /** The as-of day when a request names none; defaults to the clock's UTC date. */
  today: z.custom<() => string>((v) => typeof v === 'function', 'today must be a function').optional(),
  /** Token expiry and the rate limit read this clock; tests may pin it. */
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
  readonly port: number;
  /** The only client credentials the token endpoint accepts. */
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  readonly stats: SandboxStats;
  /** Faults to switch on while it runs. */
  readonly faults: SandboxFaults;
  /** The catalog behind the answers, for tests to compare with. */
  readonly catalog: Catalog;
  close(): Promise<void>;
}

/**
 * An answer in Spotify's Web API error shape, `{"error":{"status":N,"message":"…"}}`, thrown by
 * a hook or handler and written by the error handler. Private: it is the server's answer, not an
 * error of chartflow's (those live in shared/errors.ts).
 */
class SpotifyApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'SpotifyApiError';
  }
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
  const faults = new SandboxFaults();
  const limiter = opts.rateLimit ? rollingWindowLimiter(opts.rateLimit) : undefined;
  const tokens = new Map<string, number>();
  let apiUrl = '';

  const app = Fastify({ logger: false });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof SpotifyApiError) {
      return reply
        .code(error.status)
        .headers(error.headers)
        .send({ error: { status: error.status, message: error.message } });
    }
    // Fastify's own refusals (unsupported media type, bad body…) keep their status.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = status >= 500 ? 'Server error.' : (error as Error).message;
    return reply.code(status).send({ error: { status, message } });
  });

  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error: { status: 404, message: 'Service not found' } }),
  );

  // ---- accounts: the client credentials flow. Its errors are OAuth's, not the Web API's.
  app.post('/api/token', async (request, reply) => {
    stats.recordRequest('token');
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

  // ---- the Web API: count, authenticate, then rate-limit (Spotify counts per app, so per token).
  const guard = (endpoint: SandboxEndpoint) =>
    async function guardV1(request: FastifyRequest, _reply: FastifyReply) {
      stats.recordRequest(endpoint);
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (!match) {
        stats.recordUnauthorized();
        throw new SpotifyApiError(401, 'No token provided');
      }
      const nowMs = clock.now().getTime();
      const expiresAt = tokens.get(match[1] as string);
      if (expiresAt === undefined) {
        stats.recordUnauthorized();
        throw new SpotifyApiError(401, 'Invalid access token');
      }
      if (expiresAt <= nowMs) {
        stats.recordUnauthorized();
        throw new SpotifyApiError(401, 'The access token expired');
      }
      const waitMs = limiter?.take(nowMs);
      if (waitMs !== undefined) {
        stats.recordRateLimited();
        // Retry-After is whole seconds, rounded up so that waiting as told is always enough.
        throw new SpotifyApiError(429, 'API rate limit exceeded', {
          'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
        });
      }
    };

  const contextOf = (request: FastifyRequest): ObjectContext => {
    const header = request.headers[asOfHeader];
    const parsed = isoDate.optional().safeParse(header);
    if (!parsed.success) {
      throw new SpotifyApiError(400, `Invalid ${asOfHeader} header: expected a date as YYYY-MM-DD`);
    }
    return { catalog, apiUrl, asOf: parsed.data ?? isoDate.parse(today()) };
  };

  const queryOf = (request: FastifyRequest) => {
    const parsed = pageQuerySchema.safeParse(request.query);
    if (!parsed.success) throw new SpotifyApiError(400, 'Invalid query: each parameter may be given once');
    return parsed.data;
  };

  /** A track as the day knows it: unknown ids and tracks not yet released are not found. */
  const trackAsOf = (ctx: ObjectContext, id: string): CatalogTrack | undefined =>
    ctx.catalog.isReleased(id, ctx.asOf) ? ctx.catalog.track(id) : undefined;

  const idsOf = (request: FastifyRequest, max: number): string[] => {
    const { ids } = queryOf(request);
    if (ids === undefined || ids === '') throw new SpotifyApiError(400, 'invalid id');
    const list = ids.split(',');
    if (list.length > max) throw new SpotifyApiError(400, 'Too many ids requested');
    return list;
  };

  const pathIdOf = (request: FastifyRequest): string => {
    const parsed = z.object({ id: z.string() }).safeParse(request.params);
    return parsed.success ? parsed.data.id : '';
  };

  app.get('/v1/playlists/:id/items', { onRequest: guard('playlistItems') }, async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw new SpotifyApiError(400, 'Invalid base62 id');
    const chartId = chartIdForPlaylist(id);
    if (!chartId) throw new SpotifyApiError(404, 'Resource not found');
    const query = queryOf(request);
    const limit = limitSchema.safeParse(query.limit);
    if (!limit.success) throw new SpotifyApiError(400, 'Invalid limit');
    const offset = offsetSchema.safeParse(query.offset);
    if (!offset.success) throw new SpotifyApiError(400, 'Invalid offset');
    const chart = catalog.chartFor(chartId, ctx.asOf);
    return pagingObject(`${apiUrl}/playlists/${id}/items`, chart, offset.data, limit.data, (trackId) => {
      const track = catalog.track(trackId);
      if (!track) throw new Error(`catalog is inconsistent: chart names unknown track ${trackId}`);
      return playlistItemObject(ctx, track);
    });
  });

  app.get('/v1/tracks', { onRequest: guard('tracks') }, async (request) => {
    const ctx = contextOf(request);
    const ids = idsOf(request, 50);
    if (faults.failsTrackLookup(ids)) throw new SpotifyApiError(500, 'Server error');
    // Like Spotify: one entry per id asked, in order; `null` for anything it does not know.
    return {
      tracks: ids.map((id) => {
        const track = trackAsOf(ctx, id);
        return track ? trackObject(ctx, track) : null;
      }),
    };
  });

  app.get('/v1/tracks/:id', { onRequest: guard('track') }, async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw new SpotifyApiError(400, 'invalid id');
    if (faults.failsTrackLookup([id])) throw new SpotifyApiError(500, 'Server error');
    const track = trackAsOf(ctx, id);
    if (!track) throw new SpotifyApiError(404, 'non existing id');
    return trackObject(ctx, track);
  });

  app.get('/v1/audio-features', { onRequest: guard('audioFeatures') }, async (request) => {
    const ctx = contextOf(request);
    const ids = idsOf(request, 100);
    return {
      audio_features: ids.map((id) => {
        const track = trackAsOf(ctx, id);
        return track ? audioFeaturesObject(ctx, track) : null;
      }),
    };
  });

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
    port: address.port,
    credentials,
    stats,
    faults,
    catalog,
    close: async () => {
      await app.close();
    },
  };
};
