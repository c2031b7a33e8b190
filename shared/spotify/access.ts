import { logger } from '../logger.js';

export type EndpointState = 'unknown' | 'open' | 'closed';

/** The Spotify endpoints whose access depends on the app's access level. */
export type GatedEndpoint = 'multiTracks' | 'audioFeatures';

/**
 * What this app may call, learned from Spotify's answers (a 403 or 404 on a gated endpoint), once
 * per process, and remembered: a closed endpoint is never asked again, let alone track by track.
 * Since 2026 Development Mode apps have no multi-id lookups; since Nov 2024 apps without extended
 * access have no audio features.
 */
export class SpotifyAccess {
  readonly #state: Record<GatedEndpoint, EndpointState> = {
    multiTracks: 'unknown',
    audioFeatures: 'unknown',
  };
  readonly #reasons: Partial<Record<GatedEndpoint, string>> = {};

  state(endpoint: GatedEndpoint): EndpointState {
    return this.#state[endpoint];
  }

  open(endpoint: GatedEndpoint): void {
    if (this.#state[endpoint] === 'unknown') this.#state[endpoint] = 'open';
  }

  close(endpoint: GatedEndpoint, reason: string): void {
    if (this.#state[endpoint] === 'closed') return;
    this.#state[endpoint] = 'closed';
    this.#reasons[endpoint] = reason;
    logger.warn('Spotify endpoint closed to this app; using the fallbacks', { endpoint, reason });
  }

  /** Why an endpoint is closed, for the rows that go without it. */
  reason(endpoint: GatedEndpoint): string | undefined {
    return this.#reasons[endpoint];
  }

  /** The app's access level as far as it is known: extended when multi-id lookups work. */
  get level(): 'extended' | 'development' | 'unknown' {
    if (this.#state.multiTracks === 'closed') return 'development';
    return this.#state.multiTracks === 'open' ? 'extended' : 'unknown';
  }
}
