import * as z from 'zod';
import type { ZodType } from 'zod';
import type { Clock } from '../ports/clock.js';
import type { Secrets } from '../ports/secrets.js';
import { SecretName } from '../ports/secrets.js';
import { ConfigError } from '../errors.js';
import { parseOrThrow } from '../parse.js';
import { JsonClient, UnauthorizedError, type RetryPolicy } from '../http/json-client.js';
import type { RequestCounter } from '../http/request-counter.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { CircuitBreakers } from '../http/circuit-breaker.js';
import {
  playlistItemsPageSchema,
  severalAudioFeaturesSchema,
  severalTracksSchema,
  tokenSchema,
  type PlaylistItemsPage,
} from './schemas.js';

/** Spotify's limits per call (docs/architecture.md, "Spotify, as it is today"). */
export const spotifyLimits = {
  tracksPerCall: 50,
  audioFeaturesPerCall: 100,
  playlistPage: 50,
} as const;

/**
 * Renew a token this long before Spotify says it expires, so no request carries a dying one; for
 * a short-lived token, halfway through its life.
 */
const renewalMarginMs = (lifetimeMs: number): number => Math.min(60_000, lifetimeMs / 2);

/** The Spotify app's credentials, as the secret store keeps them. */
export const spotifyCredentialsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});

export interface SpotifyClientOptions {
  /** Base URLs: Spotify's, or the sandbox's. */
  readonly apiUrl: string;
  readonly accountsUrl: string;
  /** Where the app's credentials are kept (secret `spotify`); read when a token is needed, never logged. */
  readonly secrets: Secrets;
  readonly counter: RequestCounter;
  readonly clock: Clock;
  readonly retry?: RetryPolicy;
  /** Spotify's limiter, shared by every client of the process. */
  readonly limiter?: RateLimiter;
  /** The process's circuit breakers, one per endpoint, shared by every client of the process. */
  readonly breakers?: CircuitBreakers;
  /**
   * Send the chart day as `x-chartflow-as-of`, which the sandbox reads to answer as of a past day.
   * Only for the sandbox: Spotify itself is never sent it.
   */
  readonly sendAsOf?: boolean;
}

/** Per-call options: `asOf` is the chart day, sent only to the sandbox. */
export interface CallOptions {
  readonly asOf?: string;
}

/**
 * The Spotify Web API, as the pipeline uses it: client-credentials tokens (renewed before they
 * expire, and once more on a 401), playlist items, several tracks, several audio features. Answers
 * are returned as received (the lake keeps them raw); items are validated by the caller, one by one.
 */
export class SpotifyClient {
  readonly #http: JsonClient;
  #token: { value: string; renewAt: number } | undefined;
  #pendingToken: Promise<string> | undefined;

  constructor(private readonly options: SpotifyClientOptions) {
    this.#http = new JsonClient(
      'spotify',
      options.counter,
      options.clock,
      options.retry,
      options.limiter,
      options.breakers,
    );
  }

  /**
   * All pages of a playlist's items, as received. `fields` is Spotify's filter of what each page
   * holds (see shared/spotify/fields.ts); it is asked for on every page, `next` links included.
   */
  async playlistItems(
    playlistId: string,
    call: CallOptions & { readonly fields?: string } = {},
  ): Promise<PlaylistItemsPage[]> {
    const pages: PlaylistItemsPage[] = [];
    const withFields = (url: string): string => {
      if (call.fields === undefined) return url;
      const asked = new URL(url);
      asked.searchParams.set('fields', call.fields);
      return asked.href;
    };
    let url: string | null = withFields(
      this.#api(
        `/playlists/${encodeURIComponent(playlistId)}/items?limit=${spotifyLimits.playlistPage}&offset=0`,
      ),
    );
    while (url) {
      const page: PlaylistItemsPage = await this.#get(
        url,
        playlistItemsPageSchema,
        'GET /v1/playlists/{id}/items',
        call,
      );
      pages.push(page);
      url = page.next === null ? null : withFields(page.next);
    }
    return pages;
  }

  /** Up to 50 tracks by id; `null` stands for an id Spotify does not know. */
  async tracks(ids: readonly string[], call: CallOptions = {}): Promise<unknown[]> {
    assertBatch(ids, spotifyLimits.tracksPerCall, 'tracks');
    const answer = await this.#get(
      this.#api(`/tracks?ids=${ids.map(encodeURIComponent).join(',')}`),
      severalTracksSchema,
      'GET /v1/tracks',
      call,
      ids,
    );
    return answer.tracks;
  }

  /**
   * One track by id, the only track lookup left to Development Mode apps since 2026 (without
   * popularity). An unknown id is a 404 (`ProviderRejectedError`).
   */
  async track(id: string, call: CallOptions = {}): Promise<unknown> {
    return this.#get(
      this.#api(`/tracks/${encodeURIComponent(id)}`),
      z.unknown(),
      'GET /v1/tracks/{id}',
      call,
      [id],
    );
  }

  /** Up to 100 tracks' audio features by id; `null` where Spotify has none. */
  async audioFeatures(ids: readonly string[], call: CallOptions = {}): Promise<unknown[]> {
    assertBatch(ids, spotifyLimits.audioFeaturesPerCall, 'audio features');
    const answer = await this.#get(
      this.#api(`/audio-features?ids=${ids.map(encodeURIComponent).join(',')}`),
      severalAudioFeaturesSchema,
      'GET /v1/audio-features',
      call,
      ids,
    );
    return answer.audio_features;
  }

  #api(pathAndQuery: string): string {
    // The base is Spotify's documented one, `https://api.spotify.com/v1`; paths go below it.
    return `${this.options.apiUrl.replace(/\/+$/, '')}${pathAndQuery}`;
  }

  async #get<T>(
    url: string,
    schema: ZodType<T>,
    what: string,
    call: CallOptions,
    ids?: readonly string[],
  ): Promise<T> {
    const headers: Record<string, string> =
      this.options.sendAsOf && call.asOf ? { 'x-chartflow-as-of': call.asOf } : {};
    // The token is read when the request leaves, after its wait for the rate limiter, so a long
    // queue never sends one that expired while it waited.
    let sent: string | undefined;
    const authorize = async () => {
      sent = await this.#accessToken();
      return { authorization: `Bearer ${sent}` };
    };
    try {
      return await this.#http.request({ url, schema, what, headers, authorize, ...(ids ? { ids } : {}) });
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      // The token died early (revoked, clock skew): renew it once; a second 401 is real. Another
      // call may have renewed it meanwhile: only the token that got the 401 is thrown away.
      if (this.#token?.value === sent) this.#token = undefined;
      return this.#http.request({ url, schema, what, headers, authorize, ...(ids ? { ids } : {}) });
    }
  }

  async #accessToken(): Promise<string> {
    const now = this.options.clock.now().getTime();
    if (this.#token && this.#token.renewAt > now) return this.#token.value;
    // Concurrent lookups share one token request.
    this.#pendingToken ??= this.#requestToken().finally(() => {
      this.#pendingToken = undefined;
    });
    return this.#pendingToken;
  }

  async #requestToken(): Promise<string> {
    const { clientId, clientSecret } = await this.#credentials();
    const answer = await this.#http.request({
      url: `${this.options.accountsUrl.replace(/\/+$/, '')}/api/token`,
      method: 'POST',
      what: 'POST /api/token',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
      schema: tokenSchema,
    });
    this.#token = {
      value: answer.access_token,
      renewAt:
        this.options.clock.now().getTime() +
        answer.expires_in * 1_000 -
        renewalMarginMs(answer.expires_in * 1_000),
    };
    return answer.access_token;
  }

  async #credentials(): Promise<z.infer<typeof spotifyCredentialsSchema>> {
    const secret = await this.options.secrets.get(SecretName.spotify);
    if (secret === undefined)
      throw new ConfigError('The Spotify credentials are missing from the secret store (secret "spotify").');
    let json: unknown;
    try {
      json = JSON.parse(secret);
    } catch {
      // Not `parseJsonOrThrow`: JSON.parse's message quotes the text, and this text is a secret.
      throw new ConfigError('The secret "spotify" is not JSON.');
    }
    // zod's wording names the fields that are wrong, never their values.
    return parseOrThrow(spotifyCredentialsSchema, json, 'The secret "spotify" is malformed', ConfigError);
  }
}

const assertBatch = (ids: readonly string[], max: number, what: string): void => {
  if (ids.length === 0 || ids.length > max) {
    throw new RangeError(`Spotify ${what} take 1 to ${max} ids a call, not ${ids.length}`);
  }
};
