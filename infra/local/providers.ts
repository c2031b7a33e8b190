import type { LocalConfig } from '../../shared/config/config.js';
import { EnvSecrets } from '../adapters/embedded/env-secrets.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import type { RequestCounter } from '../../shared/http/request-counter.js';
import { CircuitBreakers } from '../../shared/http/circuit-breaker.js';
import type { Clock, ObjectStore } from '../../shared/ports/index.js';
import { SecretName } from '../../shared/ports/secrets.js';
import type { AttributeEnricher } from '../../services/track-attributes/enrichment/attribute-enricher.js';
import { buildProviders } from '../providers/build-providers.js';
import type { ChartSource } from '../../services/chart-fetch/sources/chart-source.js';
import type { SpotifyAccess } from '../../shared/spotify/access.js';
import { sandboxPlaylistIds } from '../sandbox/catalog.js';
import type { SandboxEndpoints } from '../sandbox/thread.js';

/** Where the pipeline gets charts and attributes from, for this configuration. */
export interface Providers {
  readonly chartSource: ChartSource;
  readonly enricher: AttributeEnricher;
  readonly access: SpotifyAccess;
  /** Whether a Spotify app (or the sandbox's) is configured at all. */
  readonly hasSpotify: boolean;
  /** The process's breakers: an endpoint that opens stays open for the rest of the run. */
  readonly breakers: CircuitBreakers;
  /** The charts a run fetches when it names none. */
  readonly charts: readonly string[];
}

/**
 * Builds the sources for a mode: the sandbox standing in for Spotify and ReccoBeats; or the real
 * services, with a Spotify app (its access level learned from its answers) or without one. The
 * clients themselves are built as on Lambda ({@link buildProviders}).
 */
export const providersFor = (options: {
  config: LocalConfig;
  sandbox: SandboxEndpoints | undefined;
  store: ObjectStore;
  counter: RequestCounter;
  clock: Clock;
  retry?: RetryPolicy;
}): Providers => {
  const { config, sandbox, store, counter, clock, retry } = options;

  const spotifyEndpoints = sandbox
    ? config.sandboxAccess === 'none'
      ? undefined
      : { apiUrl: sandbox.apiUrl, accountsUrl: sandbox.accountsUrl, credentials: sandbox.credentials }
    : config.spotify && {
        apiUrl: config.spotify.apiUrl,
        accountsUrl: config.spotify.accountsUrl,
        credentials: { clientId: config.spotify.clientId, clientSecret: config.spotify.clientSecret },
      };
  const reccobeatsUrl = sandbox ? sandbox.reccobeatsUrl : config.reccobeats?.apiUrl;

  // The sandbox's playlists: one per chart, and `catalog-sample`, the non-charting catalog served
  // as a pseudo-chart. A run names it with --chart; by default the demo runs `global` alone.
  const playlists: Record<string, string> = sandbox
    ? { ...sandboxPlaylistIds }
    : { ...config.chartPlaylists };
  const built = buildProviders({
    spotify: spotifyEndpoints && {
      apiUrl: spotifyEndpoints.apiUrl,
      accountsUrl: spotifyEndpoints.accountsUrl,
      // The credentials reach the client only through the secret port, as Secrets Manager does on AWS.
      secrets: new EnvSecrets({ [SecretName.spotify]: JSON.stringify(spotifyEndpoints.credentials) }),
    },
    reccobeats: config.reccobeats && reccobeatsUrl ? { apiUrl: reccobeatsUrl } : undefined,
    rateLimits: config.rateLimits,
    playlists,
    sourceName: sandbox ? 'sandbox-playlist' : 'spotify-playlist',
    sendAsOf: sandbox !== undefined,
    store,
    // One writing command per home at a time (the home lock): this process is the cache's one writer.
    rememberCache: true,
    counter,
    clock,
    ...(retry ? { retry } : {}),
    // One machine: a run lasts minutes, so an endpoint that opened stays open until it ends.
    breakers: new CircuitBreakers(clock, config.breakers),
  });
  return { ...built, charts: sandbox ? ['global'] : Object.keys(playlists) };
};
