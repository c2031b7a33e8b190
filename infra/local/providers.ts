import type { LocalConfig } from '../../shared/config/config.js';
import { EnvSecrets } from '../../shared/adapters/embedded/env-secrets.js';
import { ConfigError } from '../../shared/errors.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { RateLimiter } from '../../shared/http/rate-limiter.js';
import type { RequestCounter } from '../../shared/http/request-counter.js';
import { AttributeCache } from '../../shared/lake/attribute-cache.js';
import type { Clock, ObjectStore } from '../../shared/ports/index.js';
import { SecretName } from '../../shared/ports/secrets.js';
import { ReccoBeatsClient } from '../../shared/reccobeats/reccobeats-client.js';
import { AttributeEnricher } from '../../shared/sources/attribute-enricher.js';
import type { ChartSource } from '../../shared/sources/chart-source.js';
import { PlaylistChartSource } from '../../shared/sources/playlist-chart-source.js';
import { SpotifyAccess } from '../../shared/spotify/access.js';
import { SpotifyClient } from '../../shared/spotify/spotify-client.js';
import { sandboxPlaylistIds } from '../sandbox/catalog.js';
import type { Sandbox } from '../sandbox/server.js';

/** Where the pipeline gets charts and attributes from, for this configuration. */
export interface Providers {
  readonly chartSource: ChartSource;
  readonly enricher: AttributeEnricher;
  readonly access: SpotifyAccess;
  /** Whether a Spotify app (or the sandbox's) is configured at all. */
  readonly hasSpotify: boolean;
  /** The charts a run fetches when it names none. */
  readonly charts: readonly string[];
}

/**
 * Builds the sources for a mode: the sandbox standing in for Spotify and ReccoBeats; or the real
 * services, with a Spotify app (its access level learned from its answers) or without one. One
 * limiter per provider, shared by every client of it in the process.
 */
export const providersFor = (options: {
  config: LocalConfig;
  sandbox: Sandbox | undefined;
  store: ObjectStore;
  counter: RequestCounter;
  clock: Clock;
  retry?: RetryPolicy;
}): Providers => {
  const { config, sandbox, store, counter, clock, retry } = options;
  const common = { counter, clock, ...(retry ? { retry } : {}) };
  const sendAsOf = sandbox !== undefined;

  const spotifyEndpoints = sandbox
    ? config.sandboxAccess === 'none'
      ? undefined
      : { apiUrl: sandbox.apiUrl, accountsUrl: sandbox.accountsUrl, credentials: sandbox.credentials }
    : config.spotify && {
        apiUrl: config.spotify.apiUrl,
        accountsUrl: config.spotify.accountsUrl,
        credentials: { clientId: config.spotify.clientId, clientSecret: config.spotify.clientSecret },
      };
  const spotify =
    spotifyEndpoints &&
    new SpotifyClient({
      ...common,
      apiUrl: spotifyEndpoints.apiUrl,
      accountsUrl: spotifyEndpoints.accountsUrl,
      // The credentials reach the client only through the secret port, as Secrets Manager does on AWS.
      secrets: new EnvSecrets({ [SecretName.spotify]: JSON.stringify(spotifyEndpoints.credentials) }),
      limiter: new RateLimiter(config.rateLimits.spotify),
      sendAsOf,
    });

  const reccobeatsUrl = sandbox ? sandbox.reccobeatsUrl : config.reccobeats?.apiUrl;
  const reccobeats =
    config.reccobeats && reccobeatsUrl
      ? new ReccoBeatsClient({
          ...common,
          apiUrl: reccobeatsUrl,
          limiter: new RateLimiter(config.rateLimits.reccobeats),
          sendAsOf,
        })
      : undefined;

  // The sandbox's playlists: one per chart, and `catalog-sample`, the non-charting catalog served
  // as a pseudo-chart. A run names it with --chart; by default the demo runs `global` alone.
  const playlists: Record<string, string> = sandbox
    ? { ...sandboxPlaylistIds }
    : { ...config.chartPlaylists };
  const access = new SpotifyAccess();
  const chartSource: ChartSource = spotify
    ? new PlaylistChartSource({
        client: spotify,
        playlists,
        sourceName: sandbox ? 'sandbox-playlist' : 'spotify-playlist',
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
      cache: new AttributeCache(store),
      access,
      ...(spotify ? { spotify } : {}),
      ...(reccobeats ? { reccobeats } : {}),
    }),
    access,
    hasSpotify: spotify !== undefined,
    charts: sandbox ? ['global'] : Object.keys(playlists),
  };
};
