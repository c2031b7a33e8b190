import { describeIssues } from '../../../shared/errors.js';
import type { SpotifyClient } from '../../../shared/spotify/spotify-client.js';
import { fieldsOf } from '../../../shared/spotify/fields.js';
import { trackSchema } from '../../../shared/spotify/schemas.js';
import type { ChartEntry, ChartSnapshot, ChartSource } from './chart-source.js';
import { ConfigError } from '../../../shared/errors.js';

/** What the chart reads of a playlist entry's track: what {@link trackSchema} checks, nothing more. */
const trackFields = fieldsOf(trackSchema);

/**
 * What a chart asks of a playlist's pages (Spotify's `fields` filter): each entry's track as
 * {@link trackSchema} reads it, under `item` and under its older name `track`, and the paging.
 * Markets, images and links are left out: the answer is about a quarter of the whole (docs/benchmark.md).
 */
export const chartItemFields = `items(added_at,is_local,item(${trackFields}),track(${trackFields})),next,total,offset,limit`;

export interface PlaylistChartSourceOptions {
  readonly client: SpotifyClient;
  /** Playlist id per chart id. */
  readonly playlists: Readonly<Record<string, string>>;
  /** `sandbox-playlist` for the sandbox, `spotify-playlist` for Spotify: recorded on every row. */
  readonly sourceName: string;
  /**
   * Whether the playlist server answers as of a past day (the sandbox, sent the chart day). Spotify
   * does not: its playlist is today's, so without this the source refuses any other day.
   */
  readonly history?: boolean;
}

/**
 * A chart read from a playlist's items, in playlist order. Entries that are not usable tracks
 * (removed tracks, local files, episodes, answers that fail validation) are skipped and reported;
 * a track listed twice keeps its first place. Positions are dense: 1..N over the usable tracks.
 */
export class PlaylistChartSource implements ChartSource {
  readonly onlyToday: boolean;

  constructor(private readonly options: PlaylistChartSourceOptions) {
    this.onlyToday = options.history !== true;
  }

  async fetch(chartId: string, chartDate: string): Promise<ChartSnapshot> {
    const playlistId = this.options.playlists[chartId];
    if (!playlistId) {
      const known = Object.keys(this.options.playlists).join(', ') || 'none';
      throw new ConfigError(`No playlist is configured for chart "${chartId}" (configured: ${known}).`);
    }
    const pages = await this.options.client.playlistItems(playlistId, {
      asOf: chartDate,
      fields: chartItemFields,
    });
    const entries: ChartEntry[] = [];
    const skipped: { position: number; reason: string; raw: unknown }[] = [];
    const seen = new Set<string>();
    pages
      .flatMap((page) => page.items)
      .forEach((item, index) => {
        const playlistPosition = index + 1;
        const payload = item.item ?? item.track;
        const skip = (reason: string) => skipped.push({ position: playlistPosition, reason, raw: item });
        if (payload === null || payload === undefined) return skip('removed track (no item)');
        if (item.is_local) return skip('local file');
        if (typeof payload === 'object' && 'type' in payload && payload.type !== 'track') {
          return skip(`not a track (${String(payload.type)})`);
        }
        const track = trackSchema.safeParse(payload);
        if (!track.success) return skip(`invalid track: ${describeIssues(track.error.issues)}`);
        if (seen.has(track.data.id)) return skip(`duplicate of ${track.data.id}: its first position is kept`);
        seen.add(track.data.id);
        entries.push({
          position: entries.length + 1,
          trackId: track.data.id,
          trackName: track.data.name,
          artistNames: track.data.artists.map((a) => a.name).join(', '),
          streams: null,
        });
      });
    return { source: `${this.options.sourceName}:${playlistId}`, entries, skipped, raw: pages };
  }
}
