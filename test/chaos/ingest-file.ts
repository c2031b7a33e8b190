import type { LocalPipeline } from '../../infra/local/runtime.js';
import type { Catalog } from '../../infra/sandbox/catalog.js';
import { datedChartsFileName } from '../../services/chart-fetch/sources/spotify-charts-csv-file-name.js';
import { currentChartsCsv } from '../services/chart-fetch/sources/spotify-charts-csv-files.js';
import { chaosChart } from './scenario.js';

/**
 * The Spotify Charts file a scenario's `ingest` drops into the inbox: the sandbox's
 * {@link chaosChart} of the day as charts.spotify.com writes it, streams included. The same bytes
 * for the same day, in every home: the fault-free reference ingests the very file.
 */
export const chartsFileOf = (
  catalog: Catalog,
  chartDate: string,
): { readonly name: string; readonly body: Uint8Array } => {
  const rows = catalog.chartFor(chaosChart, chartDate).map((trackId, i) => {
    const track = catalog.track(trackId)!;
    return {
      trackId,
      trackName: track.name,
      artistNames: track.artistIds.map((a) => catalog.artistName(a, chartDate)).join(', '),
      streams: 900_000 - i * 7_919,
    };
  });
  return {
    name: datedChartsFileName(chaosChart, 'daily', chartDate),
    body: Buffer.from(currentChartsCsv(rows), 'utf8'),
  };
};

/** Drops the days' chart files into the inbox, as `chartflow ingest` does, and waits for each day's run. */
export const ingest = (pipeline: LocalPipeline, days: readonly string[]) => {
  const catalog = pipeline.sandbox?.catalog;
  if (!catalog) throw new Error('a chaos pipeline runs on its own sandbox, whose charts it ingests');
  return pipeline.ingest(days.map((chartDate) => chartsFileOf(catalog, chartDate)));
};
