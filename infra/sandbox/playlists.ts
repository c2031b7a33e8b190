import type { AccessMode } from './access-mode.js';
import {
  catalogSampleChartId,
  chartIdForPlaylist,
  sandboxChartIds,
  sandboxPlaylistIds,
  type Catalog,
  type SandboxChartId,
} from './catalog.js';
import { spotifyId } from './prng.js';

/**
 * The playlists the sandbox serves and who may read them, which depends on the app's access mode
 * (see access-mode.ts).
 */

/**
 * The user who owns the sandbox chart playlists: the app's own user. A Development Mode app may
 * only read the items of playlists it owns or collaborates on, so a development-mode user mirrors
 * each chart into a playlist of their own; the sandbox's chart playlists stand for those.
 */
export const sandboxUserId = 'chartflow-sandbox';

/**
 * A look-alike of Spotify's "Top 50 - Global" (`37i9dQZEVXbMDoHDwVN2tF`): a Spotify-owned
 * editorial playlist holding the top 50 of the global chart. Extended mode reads it; development
 * mode gets 404, as for every Spotify-owned playlist since November 2024. Same `37i9dQZEVXb` prefix
 * as Spotify's chart playlists, but not the real id, so a configuration cannot mistake one for the
 * other.
 */
export const sandboxEditorialPlaylistId = `37i9dQZEVXb${spotifyId('chartflow-sandbox:editorial:top-50-global').slice(11)}`;

/**
 * A public playlist owned by another user (who mirrors the global top 50): extended mode reads it;
 * development mode gets 403, since the app's user neither owns it nor collaborates on it.
 */
export const sandboxForeignPlaylistId = spotifyId('chartflow-sandbox:playlist:someone-else:top-50-global');

/** Who owns a playlist, which decides whether a Development Mode app may read its items. */
export type PlaylistOwnership = 'app' | 'spotify' | 'other-user';

/**
 * A playlist the sandbox serves: a chart, its top `size` entries, or the catalog sample (chart id
 * `catalog-sample`: the catalog's tracks that are on no chart that day, see `Catalog.catalogSampleFor`).
 * The app's user owns one playlist per chart id, the catalog sample included, as a real user would
 * keep a playlist of their own holding a sample of the catalog.
 */
export interface SandboxPlaylist {
  readonly id: string;
  readonly chartId: SandboxChartId;
  /** Only the first `size` entries; all of them when undefined. */
  readonly size: number | undefined;
  readonly ownership: PlaylistOwnership;
  /** The Spotify user id of the owner, who also added every entry. */
  readonly ownerId: string;
}

const others: readonly SandboxPlaylist[] = [
  { id: sandboxEditorialPlaylistId, chartId: 'global', size: 50, ownership: 'spotify', ownerId: 'spotify' },
  {
    id: sandboxForeignPlaylistId,
    chartId: 'global',
    size: 50,
    ownership: 'other-user',
    ownerId: 'chartflow-sandbox-someone-else',
  },
];

/** The playlist with this id, or `undefined` when the sandbox has none. */
export const sandboxPlaylist = (id: string): SandboxPlaylist | undefined => {
  const chartId = chartIdForPlaylist(id);
  if (chartId) return { id, chartId, size: undefined, ownership: 'app', ownerId: sandboxUserId };
  return others.find((p) => p.id === id);
};

/** Every playlist id the sandbox serves, the app's own playlists (charts, then the catalog sample) first. */
export const sandboxPlaylistIdsAll: readonly string[] = [
  ...sandboxChartIds.map((c) => sandboxPlaylistIds[c]),
  ...others.map((p) => p.id),
];

/**
 * The track ids a playlist holds on a day, in playlist order: the chart (or its top `size`), or the
 * catalog sample. Like the charts, the sample is rebuilt for every as-of day.
 */
export const playlistEntries = (
  catalog: Catalog,
  playlist: SandboxPlaylist,
  date: string,
): readonly string[] => {
  const entries =
    playlist.chartId === catalogSampleChartId
      ? catalog.catalogSampleFor(date)
      : catalog.chartFor(playlist.chartId, date);
  return playlist.size === undefined ? entries : entries.slice(0, playlist.size);
};

/** Why an app in this mode may not read the playlist's items, or `undefined` when it may. */
export const playlistRefusal = (
  playlist: SandboxPlaylist,
  mode: AccessMode,
): { status: 403 | 404; message: string } | undefined => {
  if (mode === 'extended' || playlist.ownership === 'app') return undefined;
  // Spotify-owned playlists do not exist for the app at all; others exist but are not its to read.
  return playlist.ownership === 'spotify'
    ? { status: 404, message: 'Resource not found' }
    : { status: 403, message: 'Forbidden' };
};
