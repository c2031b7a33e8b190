import * as z from 'zod';

/**
 * The parts of ReccoBeats' answers chartflow reads (https://api.reccobeats.com/v1). ReccoBeats has
 * ids of its own (UUIDs); the Spotify id of a track or artist is the last part of its `href`,
 * `https://open.spotify.com/track/<id>`, and that is what results are matched back by.
 */
const spotifyHref = (kind: 'track' | 'artist') =>
  z
    .string()
    .regex(new RegExp(`open\\.spotify\\.com/${kind}/[A-Za-z0-9]+`), `not an open.spotify.com ${kind} link`);

/** The Spotify id in an open.spotify.com link, or `undefined`. */
export const spotifyIdOfHref = (href: string): string | undefined =>
  /open\.spotify\.com\/(?:track|artist)\/([A-Za-z0-9]+)/.exec(href)?.[1];

export const reccobeatsTrackSchema = z.object({
  id: z.string(),
  trackTitle: z.string(),
  artists: z.array(z.object({ id: z.string(), name: z.string(), href: spotifyHref('artist') })).min(1),
  durationMs: z.number().int().nonnegative(),
  isrc: z.string().nullish(),
  href: spotifyHref('track'),
  popularity: z.number().int().min(0).max(100).nullish(),
});
export type ReccoBeatsTrack = z.infer<typeof reccobeatsTrackSchema>;

const unit = z.number().min(0).max(1);
export const reccobeatsAudioFeaturesSchema = z.object({
  id: z.string(),
  href: spotifyHref('track'),
  acousticness: unit,
  danceability: unit,
  energy: unit,
  instrumentalness: unit,
  liveness: unit,
  speechiness: unit,
  valence: unit,
  loudness: z.number(),
  tempo: z.number().nonnegative(),
  key: z.number().int().min(-1).max(11),
  mode: z.number().int().min(0).max(1),
});
export type ReccoBeatsAudioFeatures = z.infer<typeof reccobeatsAudioFeaturesSchema>;

/** Several items: unknown ids are simply absent, and the order is not the request's. */
export const contentSchema = z.object({ content: z.array(z.unknown()) });
