import { ConfigError } from '../../shared/errors.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { RateLimiter, type RateLimit } from '../../shared/http/rate-limiter.js';
import type { RequestCounter } from '../../shared/http/request-counter.js';
import { CircuitBreakers } from '../../shared/http/circuit-breaker.js';
import { AttributeCache } from '../../services/track-attributes/enrichment/attribute-cache.js';
import type { Clock, ObjectStore } from '../../shared/ports/index.js';
import type { Secrets } from '../../shared/ports/secrets.js';
import { ReccoBeatsClient } from '../../shared/reccobeats/reccobeats-client.js';
import { SpotifyAccess } from '../../shared/spotify/access.js';
import { SpotifyClient } from '../../shared/spotify/spotify-client.js';
import { AttributeEnricher } from '../../services/track-attributes/enrichment/attribute-enricher.js';
import type { ChartSource } from '../../services/chart-fetch/sources/chart-source.js';
import { PlaylistChartSource } from '../../services/chart-fetch/sources/playlist-chart-source.js';

/** What {@link buildProviders} needs: where each provider answers, and the process's shared parts. */
export interface ProviderOptions {
  /** The Spotify app, or `undefined` without one; its credentials come only from `secrets`. */
  readonly spotify:
    { readonly apiUrl: string; readonly accountsUrl: string; readonly secrets: Secrets } | undefined;
  /** ReccoBeats' base URL, or `undefined` when it is turned off. */
  readonly reccobeats: { readonly apiUrl: string } | undefined;
  readonly rateLimits: Readonly<Record<'spotify' | 'reccobeats', RateLimit>>;
  /** Playlist id per chart id. */
  readonly playlists: Readonly<Record<string, string>>;
  /** The provenance written on every chart row read from a playlist. */
  readonly sourceName: string;
  /** Send the chart day to the providers (the sandbox only). */
  readonly sendAsOf: boolean;
  /** The lake, where attributes that never change are cached. */
  readonly store: ObjectStore;
  /** Keep the cache's entries in memory: only for the cache's one writer (see AttributeCacheOptions). */
  readonly rememberCache?: boolean;
  readonly counter: RequestCounter;
  readonly clock: Clock;
  readonly retry?: RetryPolicy;
  /**
   * The process's circuit breakers, one per provider endpoint, shared by every client built here;
   * unless given, breakers with the defaults (shared/http/circuit-breaker.ts).
   */
  readonly breakers?: CircuitBreakers;
}

/** The sources a process reads charts and attributes from. */
export interface BuiltProviders {
  readonly chartSource: ChartSource;
  readonly enricher: AttributeEnricher;
  /** What the Spotify app may call, as learned from its answers. */
  readonly access: SpotifyAccess;
  readonly hasSpotify: boolean;
  /** The breakers every client of the process goes through: what the summary reports open. */
  readonly breakers: CircuitBreakers;
}

/**
 * Builds the provider clients, one rate limiter per provider shared by every client of it in the
 * process, one circuit breaker per endpoint (shared likewise), the chart source and the attribute enricher (its cache in the lake). The same builder
 * serves one machine (infra/local/providers.ts) and Lambda (infra/aws/functions/providers.ts), so
 * both read the providers the same way.
 */
export const buildProviders = (options: ProviderOptions): BuiltProviders => {
  const { counter, clock, retry, sendAsOf } = options;
  const breakers = options.breakers ?? new CircuitBreakers(clock);
  const common = { counter, clock, breakers, ...(retry ? { retry } : {}) };
  const spotify =
    options.spotify &&
    new SpotifyClient({
      ...common,
      apiUrl: options.spotify.apiUrl,
      accountsUrl: options.spotify.accountsUrl,
      secrets: options.spotify.secrets,
      limiter: new RateLimiter(options.rateLimits.spotify),
      sendAsOf,
    });
  const reccobeats =
    options.reccobeats &&
    new ReccoBeatsClient({
      ...common,
      apiUrl: options.reccobeats.apiUrl,
      limiter: new RateLimiter(options.rateLimits.reccobeats),
      sendAsOf,
    });
  const access = new SpotifyAccess();
  const chartSource: ChartSource = spotify
    ? new PlaylistChartSource({
        client: spotify,
        playlists: { ...options.playlists },
        sourceName: options.sourceName,
        history: sendAsOf,
      })
    : {
        fetch: async () => {
          throw new ConfigError(
            'Without a Spotify app there is no playlist to read: drop Spotify Charts CSV files in with "chartflow ingest".',
          );
        },
      };
  return {
    chartSource,
    enricher: new AttributeEnricher({
      cache: new AttributeCache(options.store, { remember: options.rememberCache === true }),
      access,
      ...(spotify ? { spotify } : {}),
      ...(reccobeats ? { reccobeats } : {}),
    }),
    access,
    hasSpotify: spotify !== undefined,
    breakers,
  };
};
