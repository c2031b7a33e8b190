import { stringify } from 'csv-stringify/sync';
import { chartsCsvHeaders } from '../../services/chart-fetch/sources/spotify-charts-csv.js';
import type { Catalog, ChartId } from './catalog.js';

/**
 * A sandbox chart day as charts.spotify.com writes its downloads (UTF-8 BOM, CRLF,
 * `rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams`), named
 * `regional-<region>-daily-<date>.csv`: how a user without a Spotify app feeds the pipeline.
 */
export const sandboxChartsCsv = (
  catalog: Catalog,
  chartId: ChartId,
  date: string,
): { readonly name: string; readonly body: string } => {
  const rows = catalog.chartFor(chartId, date).map((trackId, index) => {
    const track = catalog.track(trackId)!;
    const rank = index + 1;
    return [
      rank,
      `spotify:track:${trackId}`,
      track.artistIds.map((id) => catalog.artistName(id, date)).join(', '),
      track.name,
      'Sandbox Records',
      rank,
      rank,
      1,
      // Streams fall with rank and rise with popularity, as on the real charts.
      Math.round((catalog.popularity(trackId, date) + 1) * 40_000 * (1 + 1 / rank)),
    ];
  });
  const header = chartsCsvHeaders['current-daily'];
  const body = stringify([header, ...rows], { record_delimiter: '\r\n' });
  return { name: `regional-${chartId}-daily-${date}.csv`, body: `\uFEFF${body}` };
};
