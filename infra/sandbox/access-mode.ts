import * as z from 'zod';

/**
 * What a Spotify app may call and read depends on its access mode:
 *
 * - `extended`: what an app with extended quota mode gets: every endpoint and field, Spotify-owned
 *   editorial playlists included.
 * - `development`: a Development Mode app after Spotify's two rounds of restrictions. Since
 *   27 Nov 2024 no audio features and no Spotify-owned editorial or algorithmic playlists (they
 *   answer 404); since 11 Feb 2026 (new apps) / 9 Mar 2026 (existing ones) no multi-id lookups, no
 *   `popularity`, and playlist items only of playlists the app's user owns or collaborates on (others
 *   answer 403).
 *
 * Sources: developer.spotify.com/blog/2024-11-27-changes-to-the-web-api;
 * developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide and
 * …/references/changes/february-2026 (and march-2026, which restored `external_ids`). The status
 * codes and bodies are the ones developers reported from the live API: editorial playlists
 * `404 {"error":{"status":404,"message":"Resource not found"}}` (Chimildic/goofy#261,
 * spotify2tidal/spotify_to_tidal#102, fondberg/spotcast#611); a followed playlist's items
 * `403 {"error":{"status":403,"message":"Forbidden"}}` (LBC-Innovation/ShareList#22).
 */

/** The access modes a Spotify app can have. */
export const accessModes = ['extended', 'development'] as const;

export type AccessMode = (typeof accessModes)[number];

export const accessModeSchema = z.enum(accessModes);
