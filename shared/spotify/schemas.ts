import * as z from 'zod';

/**
 * The parts of Spotify's answers chartflow reads. Unknown fields are allowed (Spotify adds them);
 * a field we use that is missing or of the wrong type fails the parse, naming the field.
 */
const spotifyId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'not a Spotify id');

export const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().int().positive(),
});

export const simplifiedArtistSchema = z.object({
  id: spotifyId,
  name: z.string(),
});

export const albumSchema = z.object({
  id: spotifyId,
  name: z.string(),
  album_type: z.string().nullish(),
  release_date: z.string().nullish(),
  release_date_precision: z.enum(['year', 'month', 'day']).nullish(),
});

export const trackSchema = z.object({
  id: spotifyId,
  name: z.string(),
  type: z.literal('track').optional(),
  duration_ms: z.number().int().nonnegative(),
  explicit: z.boolean(),
  // Development Mode apps no longer get popularity (2026): absent, not zero.
  popularity: z.number().int().min(0).max(100).nullish(),
  external_ids: z.object({ isrc: z.string().nullish() }).partial().nullish(),
  artists: z.array(simplifiedArtistSchema).min(1),
  album: albumSchema,
});
export type SpotifyTrack = z.infer<typeof trackSchema>;

/** A playlist entry: since 2026 `/items` answers `item`; older answers say `track`. Episodes, local files and removed tracks are not usable tracks. */
export const playlistItemSchema = z.object({
  added_at: z.string().nullish(),
  is_local: z.boolean().nullish(),
  item: z.unknown().optional(),
  track: z.unknown().optional(),
});
export type PlaylistItem = z.infer<typeof playlistItemSchema>;

export const playlistItemsPageSchema = z.object({
  items: z.array(playlistItemSchema),
  next: z.string().nullable(),
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
});
export type PlaylistItemsPage = z.infer<typeof playlistItemsPageSchema>;

/** Several tracks: unknown ids answer `null` in their place. Items are validated one by one, so one bad track does not sink its batch. */
export const severalTracksSchema = z.object({ tracks: z.array(z.unknown()) });

const unit = z.number().min(0).max(1);
export const audioFeaturesSchema = z.object({
  id: spotifyId,
  danceability: unit,
  energy: unit,
  speechiness: unit,
  acousticness: unit,
  instrumentalness: unit,
  liveness: unit,
  valence: unit,
  loudness: z.number(),
  tempo: z.number().nonnegative(),
  key: z.number().int().min(-1).max(11),
  mode: z.number().int().min(0).max(1),
  time_signature: z.number().int().min(0).max(12),
});
export type AudioFeatures = z.infer<typeof audioFeaturesSchema>;

export const severalAudioFeaturesSchema = z.object({ audio_features: z.array(z.unknown()) });
