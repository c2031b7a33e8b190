import { createHash } from 'node:crypto';
import type { Catalog, CatalogTrack } from './catalog.js';
import { hashString, unit3 } from './prng.js';
import { availableMarkets } from './spotify-objects.js';

/**
 * The catalog in ReccoBeats's JSON shapes (reccobeats.com/docs: "Get Multiple Tracks", "Get
 * Multiple Audio Features", Resources/track, "Request And Response"). ReccoBeats names things its
 * own way (`trackTitle`, `durationMs`, a comma-separated `availableCountries`), gives every
 * resource its own UUID v4, and points back at Spotify only through `href`
 * (`https://open.spotify.com/track/<spotifyId>`): a client maps an answer back to the Spotify id it
 * asked for by that href, since `content` neither follows the order asked nor keeps a place for
 * ids it does not know.
 */

/** ReccoBeats honours at most this many ids a call and silently drops the rest. */
export const reccobeatsMaxIds = 40;

/** About this share of the catalog is unknown to ReccoBeats: absent from every answer. */
export const reccobeatsUnknownShare = 0.03;

/** What an answer depends on besides the catalog: the as-of day (popularity, artist names). */
export interface ReccobeatsContext {
  readonly catalog: Catalog;
  /** `YYYY-MM-DD`. */
  readonly asOf: string;
}

/**
 * ReccoBeats's own id for a Spotify resource: a UUID v4 (random bits, version 4, RFC 4122 variant)
 * whose "random" bits are a hash of the Spotify id, so that it is the same on every run.
 */
export const reccobeatsId = (kind: 'track' | 'artist', spotifyId: string): string => {
  const bytes = createHash('sha256').update(`chartflow-sandbox:reccobeats:${kind}:${spotifyId}`).digest();
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * Whether ReccoBeats knows a catalog track at all (it does not know about 3% of them, the same ones
 * for a seed on every run). Whether it knows it on a day also depends on its release.
 */
export const reccobeatsKnowsTrack = (catalog: Catalog, trackId: string): boolean => {
  const track = catalog.track(trackId);
  return (
    track !== undefined &&
    unit3(hashString(`${String(catalog.seed)}:reccobeats:unknown`), track.index, 0) >= reccobeatsUnknownShare
  );
};

// ReccoBeats takes its own UUIDs as well as Spotify ids; the reverse index is built once per catalog.
const uuidIndexes = new WeakMap<Catalog, Map<string, string>>();

/** The Spotify track id behind a ReccoBeats track UUID, or `undefined` for any other id. */
export const spotifyIdForReccobeatsId = (catalog: Catalog, uuid: string): string | undefined => {
  let index = uuidIndexes.get(catalog);
  if (!index) {
    index = new Map(catalog.catalogTracks().map((t) => [reccobeatsId('track', t.id), t.id]));
    uuidIndexes.set(catalog, index);
  }
  return index.get(uuid.toLowerCase());
};

const openUrl = (type: 'track' | 'artist', id: string) => `https://open.spotify.com/${type}/${id}`;

/** A track as `GET /v1/track?ids=` answers it, with popularity and artist names as of the day. */
export const reccobeatsTrackObject = (ctx: ReccobeatsContext, track: CatalogTrack) => ({
  id: reccobeatsId('track', track.id),
  trackTitle: track.name,
  artists: track.artistIds.map((artistId) => ({
    id: reccobeatsId('artist', artistId),
    name: ctx.catalog.artistName(artistId, ctx.asOf),
    href: openUrl('artist', artistId),
  })),
  durationMs: track.durationMs,
  isrc: track.isrc,
  ean: null,
  upc: null,
  href: openUrl('track', track.id),
  availableCountries: availableMarkets.join(','),
  popularity: ctx.catalog.popularity(track.id, ctx.asOf),
});

export type ReccobeatsTrackObject = ReturnType<typeof reccobeatsTrackObject>;

/**
 * A track's audio features as `GET /v1/audio-features?ids=` answers them: Spotify's values (the
 * catalog's), without `time_signature`, `duration_ms` nor Spotify's links, as ReccoBeats sends them.
 * `null` for a track the catalog has no audio features for: ReccoBeats's features of catalog tracks
 * come from the same place as Spotify's, so a track Spotify has none for has none here either
 * (it is still in `/v1/track`). That keeps the catalog the one truth about every track's features.
 */
export const reccobeatsAudioFeaturesObject = (track: CatalogTrack) => {
  const f = track.audioFeatures;
  if (!f) return null;
  return {
    id: reccobeatsId('track', track.id),
    href: openUrl('track', track.id),
    acousticness: f.acousticness,
    danceability: f.danceability,
    energy: f.energy,
    instrumentalness: f.instrumentalness,
    key: f.key,
    liveness: f.liveness,
    loudness: f.loudness,
    mode: f.mode,
    speechiness: f.speechiness,
    tempo: f.tempo,
    valence: f.valence,
  };
};

export type ReccobeatsAudioFeaturesObject = NonNullable<ReturnType<typeof reccobeatsAudioFeaturesObject>>;
