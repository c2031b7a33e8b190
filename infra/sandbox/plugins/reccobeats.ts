import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { CatalogTrack } from '../catalog.js';
import {
  reccobeatsAudioFeaturesObject,
  reccobeatsKnowsTrack,
  reccobeatsMaxIds,
  reccobeatsTrackObject,
  spotifyIdForReccobeatsId,
  type ReccobeatsContext,
} from '../reccobeats-objects.js';
import { reccobeatsPathPrefix } from './paths.js';
import { trackAsOf, type ProviderPluginOptions } from './provider-plugin.js';

/**
 * ReccoBeats (no auth), under `/reccobeats/v1`:
 *
 *   GET /v1/track?ids=…             ReccoBeats tracks (≤ 40 ids honoured)
 *   GET /v1/audio-features?ids=…    ReccoBeats audio features (idem)
 *
 * Its documented behaviour, kept here: `ids` as CSV or repeated; at most 40 honoured, the rest
 * dropped without a word; unknown ids simply absent from `content`, no placeholder; `content` in an
 * order of its own (here: by ReccoBeats id), so a client must map each entry back by the Spotify id
 * at the end of its `href`, never by position.
 */

// ReccoBeats takes `ids=a,b,c` as well as `ids=a&ids=b&ids=c` ("Request And Response").
const reccobeatsQuerySchema = z.object({ ids: z.union([z.string(), z.array(z.string())]).optional() });
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids asked, however they were given, at most `reccobeatsMaxIds`; none at all reads as none. */
const askedIdsOf = (request: FastifyRequest): string[] => {
  const parsed = reccobeatsQuerySchema.safeParse(request.query);
  const raw = parsed.success ? parsed.data.ids : undefined;
  return [raw ?? []]
    .flat()
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '');
};

const byReccobeatsId = <T extends { id: string }>(items: T[]): T[] =>
  items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export const reccobeatsPlugin: FastifyPluginAsync<ProviderPluginOptions> = async (app, options) => {
  const { catalog, stats, faults, guardOf, asOfOf, errorOf } = options;

  const contextOf = (request: FastifyRequest): ReccobeatsContext => ({
    catalog,
    asOf: asOfOf(request, 'reccobeats'),
  });

  /**
   * The tracks ReccoBeats finds for the ids asked (Spotify ids or its own UUIDs): known to it,
   * released by the day, each once.
   */
  const lookup = (request: FastifyRequest, ctx: ReccobeatsContext): CatalogTrack[] => {
    const asked = askedIdsOf(request);
    if (asked.length === 0)
      throw errorOf('reccobeats', request, 400, "Required parameter 'ids' is not present.");
    const spotifyIds = asked
      .slice(0, reccobeatsMaxIds)
      .map((id) => (uuidPattern.test(id) ? (spotifyIdForReccobeatsId(catalog, id) ?? id) : id));
    if (faults.failsTrackLookup(spotifyIds, 'reccobeats')) {
      stats.record('reccobeats', 'serverErrors');
      throw errorOf('reccobeats', request, 500, 'Server error');
    }
    const found = new Map<string, CatalogTrack>();
    for (const id of spotifyIds) {
      const track = trackAsOf(catalog, ctx.asOf, id);
      if (track && reccobeatsKnowsTrack(catalog, id)) found.set(id, track);
    }
    return [...found.values()];
  };

  app.get(`${reccobeatsPathPrefix}/v1/track`, guardOf('reccobeatsTracks'), async (request) => {
    const ctx = contextOf(request);
    return { content: byReccobeatsId(lookup(request, ctx).map((t) => reccobeatsTrackObject(ctx, t))) };
  });

  app.get(
    `${reccobeatsPathPrefix}/v1/audio-features`,
    guardOf('reccobeatsAudioFeatures'),
    async (request) => {
      const ctx = contextOf(request);
      const features = lookup(request, ctx).flatMap((t) => reccobeatsAudioFeaturesObject(t) ?? []);
      return { content: byReccobeatsId(features) };
    },
  );
};
