import * as z from 'zod';
import type { ObjectStore } from '../../../shared/ports/object-store.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * What never changes about a track, kept once it is known: its metadata (album, release date,
 * duration, explicit, ISRC) with its artists' ids in order, and its audio features. Popularity and
 * artist names change, so they are not here.
 */
export const cachedTrackSchema = z.object({
  trackId: z.string(),
  metadata: z
    .object({
      columns: z.record(z.string(), scalar),
      source: z.string(),
      artists: z.array(z.object({ artistId: z.string(), artistName: z.string() })),
      fetchedOn: z.string(),
    })
    .optional(),
  features: z
    .object({ columns: z.record(z.string(), scalar), source: z.string(), fetchedOn: z.string() })
    .optional(),
  /** Every source was asked and none has features for the track: asked again only after a while. */
  featuresMissing: z.object({ reason: z.string(), fetchedOn: z.string() }).optional(),
});
export type CachedTrack = z.infer<typeof cachedTrackSchema>;

export const attributeCacheKey = (trackId: string): string => `cache/tracks/${trackId}.json`;

/**
 * The cache of immutable attributes, in the lake, one object per track id, so that a track is
 * looked up once, ever, and concurrent batches never write the same object. Outside `raw/`: writing
 * it fires no load. An unreadable entry is treated as absent (it is fetched again and rewritten).
 */
export class AttributeCache {
  constructor(private readonly store: ObjectStore) {}

  async read(trackIds: readonly string[]): Promise<Map<string, CachedTrack>> {
    const entries = await Promise.all(
      trackIds.map(async (trackId) => {
        const body = await this.store.get(attributeCacheKey(trackId));
        if (!body) return undefined;
        try {
          const parsed = cachedTrackSchema.safeParse(JSON.parse(body.toString('utf8')));
          return parsed.success && parsed.data.trackId === trackId ? parsed.data : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return new Map(entries.filter((e): e is CachedTrack => e !== undefined).map((e) => [e.trackId, e]));
  }

  async write(entries: readonly CachedTrack[]): Promise<void> {
    await Promise.all(
      entries.map((entry) =>
        this.store.put(attributeCacheKey(entry.trackId), JSON.stringify(cachedTrackSchema.parse(entry)), {
          contentType: 'application/json',
        }),
      ),
    );
  }
}
