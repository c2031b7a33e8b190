/**
 * The sandbox: a local server that speaks the Spotify endpoints chartflow uses, over a
 * deterministic synthetic catalog (DESIGN.md, "The sandbox").
 */
export { startSandbox, asOfHeader, sandboxOptionsSchema } from './server.js';
export type { Sandbox, SandboxOptions } from './server.js';
export {
  createCatalog,
  catalogOptionsSchema,
  chartIds,
  chartIdSchema,
  chartSizes,
  chartIdForPlaylist,
  sandboxPlaylistId,
  sandboxPlaylistIds,
  renameWindow,
  dayNumber,
  dateOfDay,
} from './catalog.js';
export type {
  Catalog,
  CatalogOptions,
  CatalogTrack,
  CatalogAlbum,
  CatalogArtist,
  ArtistRename,
  AudioFeatures,
  AlbumType,
  ReleaseDatePrecision,
  ChartId,
} from './catalog.js';
export type { HomeMarket } from './names.js';
export { trickyTracks } from './names.js';
export { SandboxStats, sandboxEndpoints } from './stats.js';
export type { SandboxEndpoint, SandboxStatsSnapshot } from './stats.js';
export { rollingWindowLimiter, rateLimitSchema } from './rate-limit.js';
export type { RateLimit, RateLimiter } from './rate-limit.js';
export type { TrackObject, ObjectContext } from './spotify-objects.js';
export { SandboxFaults } from './faults.js';
