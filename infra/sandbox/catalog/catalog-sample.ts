import { hashString } from '../prng.js';
import { catalogSampleChartId, catalogSampleShare, type CatalogTrack } from './model.js';

/**
 * The catalog sample's members: fixed for the seed, each track in or out by a hash of the seed and
 * its id, and kept in the order of that hash, which is also the playlist's order. A day only
 * filters them, so the sample moves little and its tracks' attributes stay cached.
 *
 * @returns the members' catalog indices, in playlist order
 */
export const catalogSampleMembers = (seedKey: string, tracks: readonly CatalogTrack[]): number[] =>
  tracks
    .map((t) => ({ index: t.index, key: hashString(`${seedKey}:${catalogSampleChartId}:${t.id}`) }))
    .filter((m) => m.key / 4294967296 < catalogSampleShare)
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((m) => m.index);
