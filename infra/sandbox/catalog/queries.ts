import { isoDate } from '../../../shared/lake/keys.js';
import { unit3 } from '../prng.js';
import { publishedArtists, type DraftArtist } from './artists.js';
import { clamp } from './audio-features.js';
import { momentumOf, rankChart, seasonOf, type ChartDynamics } from './chart-dynamics.js';
import { dayNumber } from './days.js';
import {
  catalogSampleChartId,
  catalogSampleMaxSize,
  chartIds,
  chartIdSchema,
  chartSizes,
  type Catalog,
  type CatalogAlbum,
  type CatalogTrack,
  type ChartId,
} from './model.js';
import { renamesByDate } from './renames.js';

/** What the build steps made, which the catalog answers from. */
export interface BuiltCatalog {
  readonly seed: number | string;
  /** The seed's hash, which also salts popularity's daily wobble. */
  readonly seedHash: number;
  readonly artists: readonly DraftArtist[];
  readonly albums: readonly CatalogAlbum[];
  readonly tracks: readonly CatalogTrack[];
  readonly dynamics: ChartDynamics;
  /** A typical global #1's momentum: popularity 90. */
  readonly topMomentum: number;
  /** The catalog sample's members, in playlist order (see `catalogSampleMembers`). */
  readonly sampleMembers: readonly number[];
}

// Paging asks for the same chart several times in a row; keep the latest few hundred. The
// catalog sample is cached here too, under its own chart id.
const cacheLimit = 512;

const requireDate = (date: string): number => {
  if (!isoDate.safeParse(date).success)
    throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return dayNumber(date);
};

/** The charts and the catalog sample by day, computed on demand and cached. */
const chartsOf = (built: BuiltCatalog): Pick<Catalog, 'chartFor' | 'catalogSampleFor'> => {
  const { tracks, dynamics } = built;
  const chartCache = new Map<string, readonly string[]>();
  const remember = (key: string, ids: readonly string[]) => {
    chartCache.set(key, ids);
    if (chartCache.size > cacheLimit) chartCache.delete(chartCache.keys().next().value as string);
    return ids;
  };

  const chartFor = (chartId: ChartId, date: string): readonly string[] => {
    if (!chartIdSchema.safeParse(chartId).success) throw new RangeError(`unknown chart: ${String(chartId)}`);
    const day = requireDate(date);
    const key = `${chartId}:${day}`;
    return (
      chartCache.get(key) ??
      remember(
        key,
        Object.freeze(
          rankChart(dynamics, chartId, day, chartSizes[chartId]).indices.map(
            (i) => (tracks[i] as CatalogTrack).id,
          ),
        ),
      )
    );
  };

  const catalogSampleFor = (date: string): readonly string[] => {
    const day = requireDate(date);
    const key = `${catalogSampleChartId}:${day}`;
    const cached = chartCache.get(key);
    if (cached) return cached;
    const charting = new Set(chartIds.flatMap((c) => chartFor(c, date)));
    const sample: string[] = [];
    for (const i of built.sampleMembers) {
      if (sample.length === catalogSampleMaxSize) break;
      const id = (tracks[i] as CatalogTrack).id;
      if ((dynamics.releaseDay[i] as number) <= day && !charting.has(id)) sample.push(id);
    }
    return remember(key, Object.freeze(sample));
  };

  return { chartFor, catalogSampleFor };
};

/** The catalog's answers over what the build steps made. */
export const catalogQueries = (built: BuiltCatalog): Catalog => {
  const { tracks, albums, artists, dynamics } = built;
  const trackById = new Map(tracks.map((t) => [t.id, t]));
  const albumById = new Map(albums.map((a) => [a.id, a]));
  const artistById = new Map(artists.map((a) => [a.id, a]));
  const renames = renamesByDate(artists);
  const shownArtists = publishedArtists(artists);

  return {
    seed: built.seed,
    ...chartsOf(built),
    track: (id) => trackById.get(id),
    album: (id) => albumById.get(id),
    artist: (id) => {
      const a = artistById.get(id);
      return a && shownArtists[a.index];
    },
    catalogTracks: () => tracks,
    catalogAlbums: () => albums,
    catalogArtists: () => shownArtists,
    isReleased(trackId, date) {
      const track = trackById.get(trackId);
      return track !== undefined && (dynamics.releaseDay[track.index] as number) <= requireDate(date);
    },
    artistName(artistId, date) {
      const artist = artistById.get(artistId);
      if (!artist) throw new RangeError(`unknown artist: ${artistId}`);
      requireDate(date);
      return artist.rename && artist.rename.on <= date ? artist.rename.after : artist.name;
    },
    popularity(trackId, date) {
      const track = trackById.get(trackId);
      if (!track) throw new RangeError(`unknown track: ${trackId}`);
      const day = requireDate(date);
      const m = momentumOf(dynamics, track.index, day, seasonOf(day));
      if (m <= 0) return 0;
      // A small per-day wobble, as Spotify's own number moves a little every day.
      const wobble = (unit3(built.seedHash, track.index, day) - 0.5) * 2;
      return Math.round(clamp(90 + 3 * Math.log2(m / built.topMomentum) + wobble, 0, 100));
    },
    artistRenames: () => renames,
  };
};
