import { trickyTracks } from './names.js';
import { createRng, hashString, spotifyId } from './prng.js';
import { drawArtists } from './catalog/artists.js';
import {
  allocateChartDynamics,
  calibrateEvergreens,
  rankChart,
  topMomentumOf,
} from './catalog/chart-dynamics.js';
import { catalogSampleMembers } from './catalog/catalog-sample.js';
import { dayNumber } from './catalog/days.js';
import {
  catalogOptionsSchema,
  catalogSampleChartId,
  chartSizes,
  sandboxChartIds,
  type Catalog,
  type CatalogOptions,
  type SandboxChartId,
} from './catalog/model.js';
import { catalogQueries } from './catalog/queries.js';
import { drawEvergreenSingles, drawRegularReleases, type Releases } from './catalog/releases.js';
import { drawRenames } from './catalog/renames.js';

/**
 * The sandbox's synthetic catalog: artists, albums and tracks, and what the charts looked like on
 * any day. Everything is a pure function of the seed: the same seed gives the same answers,
 * whatever was asked before and in whatever order. How the charts move is told in
 * catalog/chart-dynamics.ts.
 *
 * Besides the charts, a catalog sample (`catalogSampleFor`) stands for the non-charting catalog: a
 * fixed ~2% of the tracks, of which a day holds those released and on none of the charts that day
 * (at most 100). The sandbox serves it as a playlist of the app's user under the chart id
 * `catalog-sample`, so that the warehouse can compare charting tracks with the rest.
 */

export {
  catalogOptionsSchema,
  catalogSampleChartId,
  catalogSampleMaxSize,
  catalogSampleShare,
  chartIds,
  chartIdSchema,
  chartSizes,
  renameWindow,
  sandboxChartIds,
} from './catalog/model.js';
export type {
  AlbumType,
  ArtistRename,
  AudioFeatures,
  Catalog,
  CatalogAlbum,
  CatalogArtist,
  CatalogOptions,
  CatalogTrack,
  ChartId,
  ReleaseDatePrecision,
  SandboxChartId,
} from './catalog/model.js';
export { dateOfDay, dayNumber } from './catalog/days.js';

/**
 * Each playlist's sandbox id (22 base62 characters), by the chart id it stands for: one per chart
 * and one for the catalog sample, all owned by the app's user. They do not depend on the seed, so
 * that a configuration can name them once.
 */
export const sandboxPlaylistIds: Readonly<Record<SandboxChartId, string>> = Object.freeze(
  Object.fromEntries(sandboxChartIds.map((c) => [c, spotifyId(`chartflow-sandbox:playlist:${c}`)])) as Record<
    SandboxChartId,
    string
  >,
);

/** The sandbox playlist that holds a chart (or the catalog sample). */
export const sandboxPlaylistId = (chartId: SandboxChartId): string => sandboxPlaylistIds[chartId];

/** The sandbox playlist that holds the catalog sample (`catalog-sample`). */
export const sandboxCatalogSamplePlaylistId: string = sandboxPlaylistIds[catalogSampleChartId];

/** The chart (or the catalog sample) a sandbox playlist holds, or `undefined` for any other id. */
export const chartIdForPlaylist = (playlistId: string): SandboxChartId | undefined =>
  sandboxChartIds.find((c) => sandboxPlaylistIds[c] === playlistId);

/**
 * Builds the catalog for a seed. Deterministic; takes a few hundred milliseconds. The steps draw
 * from one generator in this order (artists, evergreen singles, regular releases), so moving a
 * draw from one step to another changes every value after it; the renames draw from their own.
 */
export const createCatalog = (options: CatalogOptions = {}): Catalog => {
  const opts = catalogOptionsSchema.parse(options);
  const seedKey = String(opts.seed);
  const seedHash = hashString(`chartflow-sandbox:${seedKey}`);
  const firstDay = dayNumber(opts.firstRelease);
  const lastDay = dayNumber(opts.lastRelease);
  if (lastDay - firstDay < 365) throw new RangeError('the release range must span at least a year');

  const rng = createRng(seedHash);
  const artists = drawArtists(rng, seedKey, opts.artists);
  const evergreenCount = Math.min(trickyTracks.length, opts.artists);
  const draw = { rng, seedKey, artists, evergreenCount };
  const releases: Releases = {
    tracks: [],
    albums: [],
    dynamics: allocateChartDynamics(opts.tracks, seedKey),
  };
  drawEvergreenSingles(draw, releases);
  drawRegularReleases(draw, releases, opts.tracks, { firstDay, lastDay });

  const { tracks, albums, dynamics } = releases;
  calibrateEvergreens(dynamics, evergreenCount);
  const topMomentum = topMomentumOf(dynamics);
  drawRenames(
    seedKey,
    artists,
    tracks,
    evergreenCount,
    (day) => rankChart(dynamics, 'global', day, chartSizes.global).indices,
  );
  return catalogQueries({
    seed: opts.seed,
    seedHash,
    artists,
    albums,
    tracks,
    dynamics,
    topMomentum,
    sampleMembers: catalogSampleMembers(seedKey, tracks),
  });
};
