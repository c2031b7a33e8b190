import type { Catalog, CatalogAlbum, CatalogTrack } from './catalog.js';
import type { AccessMode } from './access-mode.js';
import { sandboxUserId } from './playlists.js';

/**
 * The catalog in Spotify's JSON shapes (Web API reference: track object, simplified album and
 * artist objects, audio features object, playlist track object, paging object). Keys are in
 * Spotify's (alphabetical) order. Every href points back at the sandbox, so that a client can
 * follow them.
 */

/** What an answer depends on besides the catalog: where the API lives and the as-of day. */
export interface ObjectContext {
  readonly catalog: Catalog;
  /** The API base, ending in `/v1`. */
  readonly apiUrl: string;
  /** `YYYY-MM-DD`: decides artist names and popularity. */
  readonly asOf: string;
  /**
   * `'extended'` unless given. In development mode, track and album objects lose `popularity` and
   * `available_markets`, as the February 2026 changes removed them for Development Mode apps.
   */
  readonly accessMode?: AccessMode;
}

/** Whether the app sees the fields Development Mode lost in 2026 (`popularity`, `available_markets`). */
const hasFullFields = (ctx: ObjectContext) => ctx.accessMode !== 'development';

/** Spotify lists every market a track is available in; a short, fixed list keeps bodies small. */
export const availableMarkets = ['AR', 'AU', 'BR', 'CA', 'DE', 'ES', 'FR', 'GB', 'JP', 'MX', 'SE', 'US'];

const openUrl = (type: string, id: string) => ({ spotify: `https://open.spotify.com/${type}/${id}` });

/** The simplified artist object, named as of the context's day. */
export const artistObject = (ctx: ObjectContext, artistId: string) => ({
  external_urls: openUrl('artist', artistId),
  href: `${ctx.apiUrl}/artists/${artistId}`,
  id: artistId,
  name: ctx.catalog.artistName(artistId, ctx.asOf),
  type: 'artist' as const,
  uri: `spotify:artist:${artistId}`,
});

/** The simplified album object, as nested in a track. */
export const albumObject = (ctx: ObjectContext, album: CatalogAlbum) => ({
  album_type: album.albumType,
  artists: album.artistIds.map((id) => artistObject(ctx, id)),
  ...(hasFullFields(ctx) ? { available_markets: availableMarkets } : {}),
  external_urls: openUrl('album', album.id),
  href: `${ctx.apiUrl}/albums/${album.id}`,
  id: album.id,
  images: [] as { url: string; height: number; width: number }[],
  name: album.name,
  release_date: album.releaseDate,
  release_date_precision: album.releaseDatePrecision,
  total_tracks: album.totalTracks,
  type: 'album' as const,
  uri: `spotify:album:${album.id}`,
});

/**
 * The full track object, with popularity and artist names as of the context's day. Development
 * mode has no `popularity` nor `available_markets`: absent, not null nor zero, as Spotify sends it.
 */
export const trackObject = (ctx: ObjectContext, track: CatalogTrack) => {
  const album = ctx.catalog.album(track.albumId);
  if (!album) throw new Error(`catalog is inconsistent: track ${track.id} has no album ${track.albumId}`);
  return {
    album: albumObject(ctx, album),
    artists: track.artistIds.map((id) => artistObject(ctx, id)),
    ...(hasFullFields(ctx) ? { available_markets: availableMarkets } : {}),
    disc_number: track.discNumber,
    duration_ms: track.durationMs,
    explicit: track.explicit,
    external_ids: { isrc: track.isrc },
    external_urls: openUrl('track', track.id),
    href: `${ctx.apiUrl}/tracks/${track.id}`,
    id: track.id,
    is_local: false,
    name: track.name,
    ...(hasFullFields(ctx) ? { popularity: ctx.catalog.popularity(track.id, ctx.asOf) } : {}),
    preview_url: null,
    track_number: track.trackNumber,
    type: 'track' as const,
    uri: `spotify:track:${track.id}`,
  };
};

export type TrackObject = ReturnType<typeof trackObject>;

/** The audio features object, or `null` when Spotify has none for the track. */
export const audioFeaturesObject = (ctx: ObjectContext, track: CatalogTrack) => {
  const f = track.audioFeatures;
  if (!f) return null;
  return {
    acousticness: f.acousticness,
    analysis_url: `${ctx.apiUrl}/audio-analysis/${track.id}`,
    danceability: f.danceability,
    duration_ms: f.duration_ms,
    energy: f.energy,
    id: track.id,
    instrumentalness: f.instrumentalness,
    key: f.key,
    liveness: f.liveness,
    loudness: f.loudness,
    mode: f.mode,
    speechiness: f.speechiness,
    tempo: f.tempo,
    time_signature: f.time_signature,
    track_href: `${ctx.apiUrl}/tracks/${track.id}`,
    type: 'audio_features' as const,
    uri: `spotify:track:${track.id}`,
    valence: f.valence,
  };
};

/**
 * One entry of `GET /playlists/{id}/items`. Since February 2026 Spotify names the entry's content
 * `item` (it was `track` under the old `/tracks` endpoint) and still sends `track` as a deprecated
 * duplicate; we send both, the same object, so clients should read `item` and may fall back to
 * `track`. The chart playlist is rebuilt every day, so `added_at` is the as-of day at midnight UTC.
 */
export const playlistItemObject = (
  ctx: ObjectContext,
  track: CatalogTrack,
  addedBy: string = sandboxUserId,
) => {
  const full = trackObject(ctx, track);
  return {
    added_at: `${ctx.asOf}T00:00:00Z`,
    added_by: {
      external_urls: openUrl('user', addedBy),
      href: `${ctx.apiUrl}/users/${addedBy}`,
      id: addedBy,
      type: 'user' as const,
      uri: `spotify:user:${addedBy}`,
    },
    is_local: false,
    item: full,
    track: full,
  };
};

/**
 * Spotify's paging object. `href`, `next` and `previous` are absolute URLs on the sandbox, like
 * Spotify's own, so a client walks `next` until it is `null`.
 */
export const pagingObject = <S, T>(
  baseHref: string,
  all: readonly S[],
  offset: number,
  limit: number,
  build: (entry: S) => T,
  /** More of the query, kept in every link (`&fields=…`). */
  query = '',
) => {
  const page = (o: number) => `${baseHref}?offset=${o}&limit=${limit}${query}`;
  return {
    href: page(offset),
    // Only the page's entries are built: a full track object per chart entry is not free.
    items: all.slice(offset, offset + limit).map(build),
    limit,
    next: offset + limit < all.length ? page(offset + limit) : null,
    offset,
    previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
    total: all.length,
  };
};
