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

export interface AttributeCacheOptions {
  /**
   * Keep in memory every entry read or written, and read it from the lake only once. Only where
   * this process is the cache's one writer: on one machine, where the home's lock lets one command
   * write at a time (infra/local/home-lock.ts). On Lambda, where several instances write it, every
   * batch reads the lake.
   */
  readonly remember?: boolean;
}

/** How many entries a remembering cache keeps (about a kilobyte each); the oldest go first. */
const rememberedEntries = 50_000;

/**
 * The cache of immutable attributes, in the lake, one object per track id, so that a track is
 * looked up once, ever, and concurrent batches never write the same object. Outside `raw/`: writing
 * it fires no load. An unreadable entry is treated as absent (it is fetched again and rewritten).
 */
export class AttributeCache {
  /** The entries this cache read or wrote, when it {@link AttributeCacheOptions.remember}s them. */
  readonly #remembered: Map<string, CachedTrack> | undefined;

  constructor(
    private readonly store: ObjectStore,
    options: AttributeCacheOptions = {},
  ) {
    this.#remembered = options.remember ? new Map() : undefined;
  }

  async read(trackIds: readonly string[]): Promise<Map<string, CachedTrack>> {
    const known = new Map<string, CachedTrack>();
    const unknown: string[] = [];
    for (const trackId of trackIds) {
      const entry = this.#remembered?.get(trackId);
      if (entry) known.set(trackId, entry);
      else unknown.push(trackId);
    }
    const read = await this.#readStored(unknown);
    for (const entry of read.values()) this.#remember(entry);
    return new Map([...known, ...read]);
  }

  async write(entries: readonly CachedTrack[]): Promise<void> {
    await Promise.all(
      entries.map(async (entry) => {
        const parsed = cachedTrackSchema.parse(entry);
        await this.store.put(attributeCacheKey(entry.trackId), JSON.stringify(parsed), {
          contentType: 'application/json',
        });
        this.#remember(parsed);
      }),
    );
  }

  #remember(entry: CachedTrack): void {
    const remembered = this.#remembered;
    if (!remembered) return;
    remembered.delete(entry.trackId);
    if (remembered.size >= rememberedEntries) remembered.delete(remembered.keys().next().value!);
    remembered.set(entry.trackId, entry);
  }

  async #readStored(trackIds: readonly string[]): Promise<Map<string, CachedTrack>> {
    const entries = await Promise.all(
      trackIds.map(async (trackId) => {
        const body = await this.store.get(attributeCacheKey(trackId));
        // Stryker disable next-line ConditionalExpression: without the guard, reading an absent body throws inside the try below, whose catch gives the same undefined
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
}
