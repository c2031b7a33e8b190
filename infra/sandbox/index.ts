/**
 * The sandbox: a local server that speaks the Spotify and ReccoBeats endpoints chartflow uses, in
 * either Spotify access mode, over a deterministic synthetic catalog (docs/architecture.md).
 */
export { startSandbox, asOfHeader, reccobeatsPathPrefix, sandboxOptionsSchema } from './server.js';
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
  catalogSampleChartId,
  catalogSampleShare,
  catalogSampleMaxSize,
  sandboxChartIds,
  sandboxCatalogSamplePlaylistId,
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
  SandboxChartId,
} from './catalog.js';
export type { HomeMarket } from './names.js';
export { trickyTracks } from './names.js';
export { SandboxStats, sandboxEndpoints, sandboxProviders, endpointProvider } from './stats.js';
export type { SandboxEndpoint, SandboxProvider, SandboxStatsSnapshot, ProviderStats } from './stats.js';
export { rollingWindowGate, rateLimitSchema } from './rolling-window-gate.js';
export type { RollingWindowGate } from './rolling-window-gate.js';
export type { TrackObject, ObjectContext } from './spotify-objects.js';
export { SandboxFaults } from './faults.js';
export type {
  FaultScope,
  FaultHandle,
  ServerErrorsOptions,
  ServerErrorStatus,
  SlowOptions,
  MalformedJsonOptions,
  QuotaExceededOptions,
} from './faults.js';
export { accessModes, accessModeSchema } from './access-mode.js';
export type { AccessMode } from './access-mode.js';
export {
  sandboxUserId,
  sandboxEditorialPlaylistId,
  sandboxForeignPlaylistId,
  sandboxPlaylist,
  sandboxPlaylistIdsAll,
  playlistEntries,
  playlistRefusal,
} from './playlists.js';
export type { PlaylistOwnership, SandboxPlaylist } from './playlists.js';
export {
  reccobeatsId,
  reccobeatsKnowsTrack,
  reccobeatsMaxIds,
  reccobeatsUnknownShare,
  spotifyIdForReccobeatsId,
} from './reccobeats-objects.js';
export type {
  ReccobeatsTrackObject,
  ReccobeatsAudioFeaturesObject,
  ReccobeatsContext,
} from './reccobeats-objects.js';
export { ProviderAnswerError } from './errors.js';
export { sandboxChartsCsv } from './charts-csv.js';
