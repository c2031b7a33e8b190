import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { Clock } from '../../shared/ports/clock.js';
import { accessModeSchema, type AccessMode } from './access-mode.js';
import { createCatalog, type Catalog } from './catalog.js';
import { SandboxFaults } from './faults.js';
import { AccessTokens } from './plugins/access-tokens.js';
import { accountsPlugin } from './plugins/accounts.js';
import { asOfReader } from './plugins/as-of.js';
import { endpointGuard } from './plugins/endpoint-guard.js';
import { reccobeatsPathPrefix } from './plugins/paths.js';
import { installErrorAnswers, providerErrorOf } from './plugins/provider-errors.js';
import type { ProviderPluginOptions } from './plugins/provider-plugin.js';
import { reccobeatsPlugin } from './plugins/reccobeats.js';
import { spotifyWebApiPlugin } from './plugins/spotify-web-api.js';
import { rateLimitSchema, rollingWindowGate } from './rolling-window-gate.js';
import { SandboxStats } from './stats.js';

/**
 * The sandbox server: the Spotify accounts and Web API endpoints that chartflow calls, and the
 * ReccoBeats endpoints it calls, answered from the synthetic catalog with each provider's shapes,
 * status codes and error bodies. One Fastify plugin per provider (plugins/accounts.ts,
 * plugins/spotify-web-api.ts, plugins/reccobeats.ts), each route guarded by the same hooks
 * (plugins/endpoint-guard.ts: count, authenticate, quota, rate limit, faults).
 *
 * Spotify answers according to the access mode (see access-mode.ts and playlists.ts). Because it
 * serves history, every request to either provider may name its day in the `x-chartflow-as-of`
 * header (default: today, UTC); the day decides the chart (and the catalog sample, which leaves out
 * what charts that day), the artists' names and popularity, and tracks released after it do not
 * exist yet.
 */

export { asOfHeader } from './plugins/as-of.js';
export { reccobeatsPathPrefix } from './plugins/paths.js';

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

/** A server that answers as the providers do, before any route: form bodies, errors, unknown paths. */
const providerServer = (clock: Pick<Clock, 'now'>): FastifyInstance => {
  const app = Fastify({ logger: false });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  installErrorAnswers(app, clock);
  return app;
};

/** Listens, and answers the port and the server's base URL (`http://host:port`). */
const listen = async (
  app: FastifyInstance,
  host: string,
  port: number,
): Promise<{ url: string; port: number }> => {
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error('the sandbox is not listening on a TCP port');
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${hostPart}:${address.port}`, port: address.port };
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
  const tokens = new AccessTokens();
  const closing = new AbortController();
  const errorOf = providerErrorOf(clock);
  const gates = {
    spotify: opts.rateLimit && rollingWindowGate(opts.rateLimit),
    reccobeats: opts.reccobeatsRateLimit && rollingWindowGate(opts.reccobeatsRateLimit),
  };
  const parts: ProviderPluginOptions = {
    catalog,
    stats,
    faults,
    clock,
    errorOf,
    asOfOf: asOfReader(today, errorOf),
    guardOf: endpointGuard({ stats, faults, tokens, gates, clock, errorOf, closing: closing.signal }),
  };
  let accessMode: AccessMode = opts.accessMode;
  let apiUrl = '';

  const app = providerServer(clock);
  await app.register(accountsPlugin, {
    ...parts,
    credentials,
    tokens,
    tokenTtlSeconds: opts.tokenTtlSeconds,
  });
  await app.register(spotifyWebApiPlugin, { ...parts, apiUrl: () => apiUrl, accessMode: () => accessMode });
  await app.register(reccobeatsPlugin, parts);
  const { url, port } = await listen(app, opts.host, opts.port);
  apiUrl = `${url}/v1`;

  return {
    url,
    accountsUrl: url,
    apiUrl,
    reccobeatsUrl: `${url}${reccobeatsPathPrefix}/v1`,
    port,
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
