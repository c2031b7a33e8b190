import { describeIssues } from '../../../shared/errors.js';
import { reccobeatsLimits, type ReccoBeatsClient } from '../../../shared/reccobeats/reccobeats-client.js';
import {
  reccobeatsAudioFeaturesSchema,
  reccobeatsTrackSchema,
  spotifyIdOfHref,
  type ReccoBeatsAudioFeatures,
  type ReccoBeatsTrack,
} from '../../../shared/reccobeats/schemas.js';
import { unitIntervalFeatures } from '../../../shared/records/stage-tables.js';
import type { AttributeColumns } from './attribute-provider.js';
import { eachAnswer, type InFlightLookups } from './each-answer.js';
import type { LookupSession } from './lookup-session.js';

/** ReccoBeats names a track by its own id; the Spotify id is in its `href`. */
const reccobeatsSpotifyId = (item: object): string | undefined =>
  // Stryker disable next-line StringLiteral: any stand-in without an open.spotify.com link gives spotifyIdOfHref no id, as '' does
  spotifyIdOfHref(String((item as { href?: unknown }).href ?? ''));

/**
 * ReccoBeats for what Spotify did not give today: popularity (and metadata without a Spotify app).
 * With ReccoBeats off, the tracks without popularity say so.
 */
export const reccobeatsTracks = async (
  session: LookupSession,
  reccobeats: ReccoBeatsClient | undefined,
): Promise<void> => {
  const wanted = session.idsWhere((k) => !k.popularity && !k.notFound);
  if (!reccobeats) {
    for (const id of wanted)
      // Stryker disable next-line StringLiteral: a not_found miss is no gap (not retryable), and only a gap carries its group
      session.miss(id, 'popularity', {
        kind: 'not_found',
        reason: 'no popularity: Spotify gave none and ReccoBeats is off',
      });
    return;
  }
  await eachAnswer({
    ids: wanted,
    size: reccobeatsLimits.idsPerCall,
    endpoint: 'reccobeats_tracks',
    keep: session.keep,
    fetch: (part) => reccobeats.tracks(part, session.chartDate),
    idOf: reccobeatsSpotifyId,
    onFailure: (id, failure) => {
      session.miss(id, 'popularity', {
        ...failure,
        reason: `no popularity: reccobeats failed: ${failure.reason}`,
      });
      // Without Spotify's metadata this was the track's last source: the track is missing, not unknown.
      const k = session.of(id);
      if (!k.metadata) k.failed ??= { ...failure, reason: `reccobeats tracks: ${failure.reason}` };
    },
    onAnswer: (id, item) => {
      const k = session.of(id);
      if (item === undefined) {
        // Stryker disable next-line StringLiteral: a not_found miss is no gap (not retryable), and only a gap carries its group
        return session.miss(id, 'popularity', {
          kind: 'not_found',
          reason: 'no popularity: reccobeats does not know this track',
        });
      }
      const parsed = reccobeatsTrackSchema.safeParse(item);
      if (parsed.success) return learnReccoBeatsTrack(session, id, parsed.data);
      // The reason lands in the lake (quarantine, missing_reason): its wording is kept as it is.
      const reason = `invalid reccobeats track: ${describeIssues(parsed.error.issues)}`;
      session.quarantineAnswer(id, 'reccobeats', reason, item);
      session.miss(id, 'popularity', { kind: 'provider_error', reason: `no popularity: ${reason}` });
      // Without other metadata, this answer was the track's only one: the track is quarantined.
      // Stryker disable next-line ConditionalExpression: `invalid` is read only where the track has no metadata (toLookup, metadataGaps), so setting it on a track with metadata changes nothing
      if (!k.metadata) k.invalid = { reason, raw: item };
    },
  });
};

const learnReccoBeatsTrack = (session: LookupSession, id: string, track: ReccoBeatsTrack): void => {
  const k = session.of(id);
  const { chartDate } = session;
  if (track.popularity !== undefined && track.popularity !== null) {
    k.popularity = { value: track.popularity, source: 'reccobeats' };
  } else {
    session.miss(
      id,
      // Stryker disable next-line StringLiteral: a not_found miss is no gap (not retryable), and only a gap carries its group
      'popularity',
      { kind: 'not_found', reason: 'no popularity: reccobeats gave none' },
    );
  }
  const artists = track.artists.flatMap((a) => {
    const artistId = spotifyIdOfHref(a.href);
    return artistId
      ? [{ artistId, artistName: a.name }]
      : // Stryker disable next-line ArrayDeclaration: reccobeatsTrackSchema takes only open.spotify.com artist links, so every parsed artist has an id and this branch never runs
        [];
  });
  k.artistNames ??= new Map(artists.map((a) => [a.artistId, a.artistName]));
  // Without a Spotify app, ReccoBeats is the only metadata there is: no album, but name, artists, duration, ISRC.
  k.metadata ??= {
    columns: { track_name: track.trackTitle, duration_ms: track.durationMs, isrc: track.isrc ?? null },
    source: 'reccobeats',
    artists,
    fetchedOn: chartDate,
  };
};

/**
 * ReccoBeats' audio features of the tracks still needing them, the last source asked: a track it
 * has none for is known to have none (cached), each reason after what Spotify said of it.
 */
export const reccobeatsAudioFeatures = async (
  session: LookupSession,
  reccobeats: ReccoBeatsClient,
  inFlight?: InFlightLookups,
): Promise<void> => {
  await eachAnswer({
    inFlight,
    ids: session.needingFeatures(),
    size: reccobeatsLimits.idsPerCall,
    endpoint: 'reccobeats_audio_features',
    keep: session.keep,
    fetch: (part) => reccobeats.audioFeatures(part, session.chartDate),
    idOf: reccobeatsSpotifyId,
    onFailure: (id, failure) => session.missFeatures(id, `reccobeats failed: ${failure.reason}`, failure),
    onAnswer: (id, item) => learnReccoBeatsFeatures(session, id, item),
  });
};

const learnReccoBeatsFeatures = (session: LookupSession, id: string, item: unknown): void => {
  if (item === undefined) {
    session.learnFeaturesAbsent(id, session.missFeatures(id, 'reccobeats has none for this track'));
    return;
  }
  const parsed = reccobeatsAudioFeaturesSchema.safeParse(item);
  if (parsed.success) {
    session.of(id).features = {
      columns: reccobeatsFeatures(parsed.data),
      source: 'reccobeats',
      fetchedOn: session.chartDate,
    };
    return;
  }
  const reason = `invalid reccobeats audio features: ${describeIssues(parsed.error.issues)}`;
  session.quarantineAnswer(id, 'reccobeats', reason, item);
  session.missFeatures(id, reason, { kind: 'provider_error' });
};

const reccobeatsFeatures = (f: ReccoBeatsAudioFeatures): AttributeColumns => ({
  ...Object.fromEntries(unitIntervalFeatures.map((name) => [name, f[name]])),
  loudness: f.loudness,
  tempo: f.tempo,
  musical_key: f.key,
  mode: f.mode,
  // ReccoBeats does not measure the time signature.
  time_signature: null,
});
