import pMap from 'p-map';
import { CircuitOpenError, describeIssues, ProviderRejectedError } from '../../../shared/errors.js';
import type { SpotifyAccess } from '../../../shared/spotify/access.js';
import {
  audioFeaturesSchema,
  trackSchema,
  type AudioFeatures,
  type SpotifyTrack,
} from '../../../shared/spotify/schemas.js';
import { spotifyLimits, type SpotifyClient } from '../../../shared/spotify/spotify-client.js';
import { unitIntervalFeatures } from '../../../shared/records/stage-tables.js';
import type { AttributeColumns } from './attribute-provider.js';
import { isEndpointError, isProviderFailure } from './bisect.js';
import { eachAnswer, failureOf, type InFlightLookups } from './each-answer.js';
import type { LookupFailure, LookupSession } from './lookup-session.js';

/** Spotify's note for a track its audio-features answer left out (`null`): it has none. */
export const spotifyHasNoFeatures = 'spotify has no audio features for this track';

/** A 403/404 on a gated endpoint: closed to this app, not a bad id. */
const closedEndpoint = (error: unknown): boolean =>
  error instanceof ProviderRejectedError && [403, 404].includes(error.status);

const statusOf = (error: unknown): number => (error as ProviderRejectedError).status;

/** The id a Spotify item says it is for. */
const spotifyIdOf = (item: object): unknown => (item as { id?: unknown }).id;

/**
 * Extended access: up to 50 tracks a call, with popularity, metadata and today's artist names. A
 * 403/404 closes multi-id lookups for the process, and the single-track pass takes over. Returns
 * `false` when the endpoint's breaker switched it off (shared/http/circuit-breaker.ts).
 */
export const spotifyTracks = async (
  session: LookupSession,
  spotify: SpotifyClient,
  access: SpotifyAccess,
): Promise<boolean> => {
  try {
    await eachAnswer({
      ids: session.ids,
      size: spotifyLimits.tracksPerCall,
      endpoint: 'spotify_tracks',
      keep: session.keep,
      fetch: async (part) => {
        const answer = await spotify.tracks(part, { asOf: session.chartDate });
        access.open('multiTracks');
        return answer;
      },
      idOf: spotifyIdOf,
      onFailure: (id, failure) =>
        (session.of(id).failed = { ...failure, reason: `spotify tracks: ${failure.reason}` }),
      // Switched off by its breaker: handed to ReccoBeats, then to `/tracks/{id}` (`cutOff`).
      rethrow: (error) => closedEndpoint(error) || error instanceof CircuitOpenError,
      onAnswer: (id, item) => {
        if (item === undefined) session.of(id).notFound = 'spotify does not know this track id';
        else learnSpotifyTrack(session, id, item);
      },
    });
  } catch (error) {
    if (error instanceof CircuitOpenError) return cutOff(session, `spotify tracks: ${error.message}`);
    if (!closedEndpoint(error)) throw error;
    access.close('multiTracks', `HTTP ${statusOf(error)} on GET /v1/tracks?ids=`);
  }
  return true;
};

/**
 * Single lookups in flight at once. The provider's limiter paces them; this bound is what makes
 * "not sent yet" mean something: each lookup checks, just before it is sent, whether the endpoint
 * has failed meanwhile.
 */
export const singleLookupsAtOnce = 8;

/**
 * Development Mode: one `/tracks/{id}` per track never seen before (no popularity). Once the
 * endpoint itself fails (a quota, an open breaker, a 401), the lookups not sent yet fail the same
 * way without asking; at most the {@link singleLookupsAtOnce} already in flight were sent.
 */
export const spotifySingleTracks = async (session: LookupSession, spotify: SpotifyClient): Promise<void> => {
  const unknown = session.idsWhere((k) => !k.metadata);
  let endpointDown: LookupFailure | undefined;
  await pMap(
    unknown,
    async (id) => {
      if (endpointDown) return void (session.of(id).failed = endpointDown);
      try {
        const item = await spotify.track(id, { asOf: session.chartDate });
        session.keep('spotify_track', [item]);
        learnSpotifyTrack(session, id, item);
      } catch (error) {
        if (error instanceof ProviderRejectedError && [400, 404].includes(error.status)) {
          const k = session.of(id);
          k.notFound = `spotify does not know this track id (HTTP ${error.status})`;
          // An answer, not a failure: a breaker that cut the multi-id lookup off before no longer
          // stands for this track, which is not found (and not asked again tomorrow as a gap).
          delete k.failed;
          return;
        }
        if (!isProviderFailure(error)) throw error;
        const failure = failureOf(error);
        session.of(id).failed = { ...failure, reason: `spotify track: ${failure.reason}` };
        if (isEndpointError(error)) endpointDown ??= session.of(id).failed;
      }
    },
    { concurrency: singleLookupsAtOnce },
  );
};

/**
 * Learns a track from Spotify's item for it: today's artist names and popularity always, metadata
 * unless the cache had it. An invalid item, or one for another id, is quarantined instead.
 */
const learnSpotifyTrack = (session: LookupSession, id: string, item: unknown): void => {
  const k = session.of(id);
  const parsed = trackSchema.safeParse(item);
  if (!parsed.success || parsed.data.id !== id) {
    // The reason lands in the lake (quarantine, missing_reason): its wording is kept as it is.
    const reason = parsed.success
      ? `answered for ${parsed.data.id}`
      : `invalid track: ${describeIssues(parsed.error.issues)}`;
    session.quarantineAnswer(id, 'spotify', reason, item);
    k.invalid = { reason, raw: item };
    return;
  }
  const track = parsed.data;
  k.artistNames = new Map(track.artists.map((a) => [a.id, a.name]));
  k.metadata ??= {
    columns: spotifyMetadata(track),
    source: 'spotify',
    artists: track.artists.map((a) => ({ artistId: a.id, artistName: a.name })),
    fetchedOn: session.chartDate,
  };
  if (track.popularity !== undefined && track.popularity !== null)
    k.popularity = { value: track.popularity, source: 'spotify' };
};

/**
 * Apps without extended access (Development Mode included) lost audio features in Nov 2024: once
 * multi-id lookups are known closed, asking for features would only spend a call on a 403.
 */
export const closeFeaturesWithMultiTracks = (access: SpotifyAccess): void => {
  if (access.state('multiTracks') === 'closed' && access.state('audioFeatures') === 'unknown') {
    access.close(
      'audioFeatures',
      'closed with multi-id lookups: Development Mode apps have no audio features',
    );
  }
};

/**
 * Spotify's audio features of the tracks that need them. What Spotify said of a track it gave none
 * for is noted on the session; a 403/404 closes the endpoint for the process.
 */
export const spotifyAudioFeatures = async (
  session: LookupSession,
  spotify: SpotifyClient,
  access: SpotifyAccess,
  inFlight?: InFlightLookups,
): Promise<void> => {
  try {
    await eachAnswer({
      inFlight,
      ids: session.needingFeatures(),
      size: spotifyLimits.audioFeaturesPerCall,
      endpoint: 'spotify_audio_features',
      keep: session.keep,
      fetch: async (part) => {
        const answer = await spotify.audioFeatures(part, { asOf: session.chartDate });
        access.open('audioFeatures');
        return answer;
      },
      idOf: spotifyIdOf,
      onFailure: (id, failure) =>
        session.noteSpotifyFeatures(id, `spotify audio features failed: ${failure.reason}`, failure),
      rethrow: closedEndpoint,
      onAnswer: (id, item) => learnSpotifyFeatures(session, id, item),
    });
  } catch (error) {
    if (!closedEndpoint(error)) throw error;
    access.close('audioFeatures', `HTTP ${statusOf(error)} on GET /v1/audio-features`);
  }
};

/**
 * `/tracks` was switched off by its breaker: the tracks it did not answer are asked of ReccoBeats
 * next (popularity, and metadata when Spotify's is not cached), then of `/tracks/{id}` for what
 * ReccoBeats does not know; without an answer they failed, saying why.
 */
const cutOff = (session: LookupSession, reason: string): false => {
  for (const id of session.idsWhere((k) => !k.metadata && !k.notFound))
    session.of(id).failed ??= { kind: 'provider_error', reason };
  return false;
};

const learnSpotifyFeatures = (session: LookupSession, id: string, item: unknown): void => {
  if (item === undefined) return session.noteSpotifyFeatures(id, spotifyHasNoFeatures);
  const parsed = audioFeaturesSchema.safeParse(item);
  if (parsed.success) {
    session.of(id).features = {
      columns: spotifyFeatures(parsed.data),
      source: 'spotify',
      fetchedOn: session.chartDate,
    };
    return;
  }
  const reason = `invalid spotify audio features: ${describeIssues(parsed.error.issues)}`;
  session.quarantineAnswer(id, 'spotify', reason, item);
  session.noteSpotifyFeatures(id, reason, { kind: 'provider_error' });
};

/** The tracks still needing features when the endpoint is closed: that is Spotify's note for them. */
export const noteFeaturesClosed = (session: LookupSession, access: SpotifyAccess): void => {
  for (const id of session.needingFeatures())
    session.noteSpotifyFeatures(
      id,
      `spotify audio features closed to this app (${access.reason('audioFeatures')})`,
    );
};

const spotifyMetadata = (track: SpotifyTrack): AttributeColumns => ({
  track_name: track.name,
  album_id: track.album.id,
  album_name: track.album.name,
  album_type: track.album.album_type ?? null,
  release_date: track.album.release_date ?? null,
  release_date_precision: track.album.release_date_precision ?? null,
  duration_ms: track.duration_ms,
  is_explicit: track.explicit,
  isrc: track.external_ids?.isrc ?? null,
});

const spotifyFeatures = (f: AudioFeatures): AttributeColumns => ({
  ...Object.fromEntries(unitIntervalFeatures.map((name) => [name, f[name]])),
  loudness: f.loudness,
  tempo: f.tempo,
  musical_key: f.key,
  mode: f.mode,
  time_signature: f.time_signature,
});
