import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { AccessMode } from '../access-mode.js';
import { spotifyError } from '../errors.js';
import { playlistEntries, playlistRefusal, sandboxPlaylist } from '../playlists.js';
import {
  audioFeaturesObject,
  pagingObject,
  playlistItemObject,
  trackObject,
  type ObjectContext,
} from '../spotify-objects.js';
import { trackAsOf, type ProviderPluginOptions } from './provider-plugin.js';
import { parseFields, selectFields, type FieldSelection } from '../fields-filter.js';

/**
 * Spotify's Web API, as the access mode allows it (see access-mode.ts):
 *
 *   GET /v1/playlists/{id}/items    a playlist's entries, paged (limit ≤ 50); `fields` filters them
 *   GET /v1/tracks?ids=…            up to 50 full track objects (extended only)
 *   GET /v1/tracks/{id}             one full track object
 *   GET /v1/audio-features?ids=…    up to 100 audio features objects (extended only)
 */

export interface SpotifyWebApiOptions extends ProviderPluginOptions {
  /** The Web API base, ending in `/v1`: known once the server listens, and every href names it. */
  readonly apiUrl: () => string;
  /** The access mode now; it may change while the sandbox runs. */
  readonly accessMode: () => AccessMode;
}

const base62Id = z.string().regex(/^[0-9A-Za-z]{22}$/);
const queryParam = z.string().optional();
const pageQuerySchema = z.object({
  limit: queryParam,
  offset: queryParam,
  ids: queryParam,
  fields: queryParam,
});
const limitSchema = z.coerce.number().int().min(1).max(50).default(20);
const offsetSchema = z.coerce.number().int().min(0).default(0);

// Spotify's own refusals of a malformed request, in its own words: not `parseOrThrow`'s.
const queryOf = (request: FastifyRequest) => {
  const parsed = pageQuerySchema.safeParse(request.query);
  if (!parsed.success) throw spotifyError(400, 'Invalid query: each parameter may be given once');
  return parsed.data;
};

const idsOf = (request: FastifyRequest, max: number): string[] => {
  const { ids } = queryOf(request);
  if (ids === undefined || ids === '') throw spotifyError(400, 'invalid id');
  const list = ids.split(',');
  if (list.length > max) throw spotifyError(400, 'Too many ids requested');
  return list;
};

const pathIdOf = (request: FastifyRequest): string => {
  const parsed = z.object({ id: z.string() }).safeParse(request.params);
  return parsed.success ? parsed.data.id : '';
};

const pageOf = (request: FastifyRequest) => {
  const query = queryOf(request);
  const limit = limitSchema.safeParse(query.limit);
  if (!limit.success) throw spotifyError(400, 'Invalid limit');
  const offset = offsetSchema.safeParse(query.offset);
  if (!offset.success) throw spotifyError(400, 'Invalid offset');
  return { limit: limit.data, offset: offset.data };
};

/** The `fields` filter asked for (everything unless asked), refused as Spotify refuses a bad one. */
const fieldsOf = (request: FastifyRequest): { selection: FieldSelection | true; query: string } => {
  const { fields } = queryOf(request);
  if (fields === undefined) return { selection: true, query: '' };
  try {
    return { selection: parseFields(fields), query: `&fields=${encodeURIComponent(fields)}` };
  } catch {
    throw spotifyError(400, 'Invalid fields');
  }
};

export const spotifyWebApiPlugin: FastifyPluginAsync<SpotifyWebApiOptions> = async (app, options) => {
  const { catalog, stats, faults, guardOf, asOfOf, apiUrl, accessMode } = options;

  const contextOf = (request: FastifyRequest): ObjectContext => ({
    catalog,
    apiUrl: apiUrl(),
    asOf: asOfOf(request, 'spotify'),
    accessMode: accessMode(),
  });

  /** A refusal of the access mode, counted as such. */
  const restricted = (status: number, message: string | undefined) => {
    stats.record('spotify', 'restricted');
    return spotifyError(status, message);
  };

  const refuseFailingLookup = (ids: readonly string[]) => {
    if (!faults.failsTrackLookup(ids)) return;
    stats.record('spotify', 'serverErrors');
    throw spotifyError(500, 'Server error');
  };

  app.get('/v1/playlists/:id/items', guardOf('playlistItems'), async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw spotifyError(400, 'Invalid base62 id');
    const playlist = sandboxPlaylist(id);
    if (!playlist) throw spotifyError(404, 'Resource not found');
    const refusal = playlistRefusal(playlist, accessMode());
    if (refusal) throw restricted(refusal.status, refusal.message);
    const { offset, limit } = pageOf(request);
    const fields = fieldsOf(request);
    const entries = playlistEntries(catalog, playlist, ctx.asOf);
    const page = pagingObject(
      `${ctx.apiUrl}/playlists/${id}/items`,
      entries,
      offset,
      limit,
      (trackId) => {
        const track = catalog.track(trackId);
        if (!track) throw new Error(`catalog is inconsistent: playlist names unknown track ${trackId}`);
        return playlistItemObject(ctx, track, playlist.ownerId);
      },
      fields.query,
    );
    return selectFields(page, fields.selection);
  });

  app.get('/v1/tracks', guardOf('tracks'), async (request) => {
    // Removed for Development Mode apps in February 2026; the live API answers this 403
    // (jjdenhertog/spotify-to-plex#131, Googolplexed0/zotify#175).
    if (accessMode() === 'development') throw restricted(403, 'Forbidden');
    const ctx = contextOf(request);
    const ids = idsOf(request, 50);
    refuseFailingLookup(ids);
    // Like Spotify: one entry per id asked, in order; `null` for anything it does not know.
    return {
      tracks: ids.map((id) => {
        const track = trackAsOf(catalog, ctx.asOf, id);
        return track ? trackObject(ctx, track) : null;
      }),
    };
  });

  app.get('/v1/tracks/:id', guardOf('track'), async (request) => {
    const ctx = contextOf(request);
    const id = pathIdOf(request);
    if (!base62Id.safeParse(id).success) throw spotifyError(400, 'invalid id');
    refuseFailingLookup([id]);
    const track = trackAsOf(catalog, ctx.asOf, id);
    if (!track) throw spotifyError(404, 'non existing id');
    return trackObject(ctx, track);
  });

  app.get('/v1/audio-features', guardOf('audioFeatures'), async (request) => {
    // Closed to Development Mode apps since 27 Nov 2024; Spotify's 403 carries no message:
    // `{"error":{"status":403}}` (jwilsson/spotify-web-api-php#281, spotipy-dev/spotipy#1173).
    if (accessMode() === 'development') throw restricted(403, undefined);
    const ctx = contextOf(request);
    const ids = idsOf(request, 100);
    return {
      audio_features: ids.map((id) => {
        const track = trackAsOf(catalog, ctx.asOf, id);
        return track ? audioFeaturesObject(ctx, track) : null;
      }),
    };
  });
};
