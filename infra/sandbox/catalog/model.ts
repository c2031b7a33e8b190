import * as z from 'zod';
import { isoDate } from '../../../shared/lake/keys.js';
import type { HomeMarket } from '../names.js';

/**
 * What the synthetic catalog is made of, and what it promises: its charts, its records and the
 * `Catalog` interface. The steps that build one live beside this file; `createCatalog` (in
 * catalog.ts) runs them.
 */

/** The charts the sandbox serves, with their sizes (positions 1..N). */
export const chartSizes = { global: 200, us: 150, gb: 100, br: 50 } as const satisfies Record<string, number>;

export type ChartId = keyof typeof chartSizes;

export const chartIds: readonly ChartId[] = ['global', 'us', 'gb', 'br'];

export const chartIdSchema = z.enum(chartIds as [ChartId, ...ChartId[]]);

/**
 * The chart id of the sandbox's catalog sample: a playlist of tracks that are not on any of the
 * sandbox's charts, served like a chart playlist so that the pipeline, which only sees tracks
 * through chart sources, can compare the charting catalog with the rest. It is not a chart: it has
 * no `chartSizes` entry, `chartFor` refuses it, and no Spotify Charts CSV is made for it.
 */
export const catalogSampleChartId = 'catalog-sample';

/** Every chart id the sandbox serves a playlist for: the real charts and the catalog sample. */
export type SandboxChartId = ChartId | typeof catalogSampleChartId;

/**
 * The chart ids the sandbox serves as playlists, the real charts first: what `--chart` accepts in
 * sandbox mode. `chartIds` lists the real charts only.
 */
export const sandboxChartIds: readonly SandboxChartId[] = Object.freeze([...chartIds, catalogSampleChartId]);

/** The share of the catalog that is ever in the catalog sample (chosen by hash, see `catalogSampleFor`). */
export const catalogSampleShare = 0.02;

/** The catalog sample holds at most this many tracks on a day. */
export const catalogSampleMaxSize = 100;

/** Renames are spread over this window so that any 60 days inside it see a charting artist rebrand. */
export const renameWindow = { from: '2024-01-01', to: '2027-12-31' } as const;

export type AlbumType = 'album' | 'single' | 'compilation';
export type ReleaseDatePrecision = 'day' | 'month' | 'year';

export interface CatalogArtist {
  readonly id: string;
  readonly index: number;
  /** The name the artist started with; see `Catalog.artistName` for the name on a given day. */
  readonly name: string;
  readonly homeMarket: HomeMarket;
  readonly rename: ArtistRename | undefined;
}

/** An artist's change of name: `before` until the day before `on`, `after` from `on`. */
export interface ArtistRename {
  readonly artistId: string;
  readonly on: string;
  readonly before: string;
  readonly after: string;
}

export interface CatalogAlbum {
  readonly id: string;
  readonly name: string;
  readonly albumType: AlbumType;
  /** As Spotify gives it: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, depending on the precision. */
  readonly releaseDate: string;
  readonly releaseDatePrecision: ReleaseDatePrecision;
  /** The day it actually came out, whatever the precision says. */
  readonly releasedOn: string;
  readonly totalTracks: number;
  readonly artistIds: readonly string[];
  readonly trackIds: readonly string[];
}

/** Spotify's audio features, with Spotify's field names; stable for a track. */
export interface AudioFeatures {
  readonly danceability: number;
  readonly energy: number;
  readonly key: number;
  readonly loudness: number;
  readonly mode: number;
  readonly speechiness: number;
  readonly acousticness: number;
  readonly instrumentalness: number;
  readonly liveness: number;
  readonly valence: number;
  readonly tempo: number;
  readonly time_signature: number;
  readonly duration_ms: number;
}

export interface CatalogTrack {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly albumId: string;
  /** In credit order: the first is the lead artist. */
  readonly artistIds: readonly string[];
  readonly trackNumber: number;
  readonly discNumber: number;
  readonly durationMs: number;
  readonly explicit: boolean;
  readonly isrc: string;
  /** The day it came out; it cannot chart, and the API does not know it, before then. */
  readonly releasedOn: string;
  /** `null` for the few tracks Spotify has no audio features for. */
  readonly audioFeatures: AudioFeatures | null;
}

export const catalogOptionsSchema = z.object({
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  tracks: z.number().int().min(2000).max(200_000).default(6000),
  artists: z.number().int().min(50).max(20_000).default(600),
  /** Releases are spread uniformly over this range; charts are realistic from a year after its start. */
  firstRelease: isoDate.default('2018-07-01'),
  lastRelease: isoDate.default('2029-12-31'),
});

export type CatalogOptions = z.input<typeof catalogOptionsSchema>;

/** The synthetic catalog and its charts. */
export interface Catalog {
  readonly seed: number | string;
  /**
   * The ordered track ids of a chart on a day: index 0 is position 1. Any day works; charts are
   * full and realistic from a year after the first release (2019-07 by default), shorter before.
   * Takes about 2 ms (every released track is scored); the latest few hundred are cached.
   */
  chartFor(chartId: ChartId, date: string): readonly string[];
  /**
   * The track ids of the catalog sample on a day, in playlist order: the members (a fixed ~2% of
   * the catalog, chosen by a hash of the seed and the track id) that are released by that day and
   * on none of the charts that day, at most `catalogSampleMaxSize`, in the order of that hash.
   * Membership is fixed, so the sample barely changes from one day to the next (warm days stay
   * cheap to enrich); it changes as members are released, enter or leave a chart, or pass the cap.
   */
  catalogSampleFor(date: string): readonly string[];
  track(id: string): CatalogTrack | undefined;
  album(id: string): CatalogAlbum | undefined;
  artist(id: string): CatalogArtist | undefined;
  /** Every track, charting or not: most never chart. */
  catalogTracks(): readonly CatalogTrack[];
  catalogAlbums(): readonly CatalogAlbum[];
  catalogArtists(): readonly CatalogArtist[];
  /** Whether a track had come out by that day. */
  isReleased(trackId: string, date: string): boolean;
  /** An artist's name as of a day (renames take effect on their day). */
  artistName(artistId: string, date: string): string;
  /** Spotify-style popularity, 0..100, as of a day: 0 before release. */
  popularity(trackId: string, date: string): number;
  /** Every rename, by date. */
  artistRenames(): readonly ArtistRename[];
}
