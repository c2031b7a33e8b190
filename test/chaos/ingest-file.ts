import type { LocalPipeline } from '../../infra/local/runtime.js';
import { datedChartsFileName } from '../../services/chart-fetch/sources/spotify-charts-csv-file-name.js';
import {
  currentChartsCsv,
  sandboxChartRows,
} from '../services/chart-fetch/sources/spotify-charts-csv-files.js';
import { chaosChart } from './scenario.js';

/**
 * Drops the days' chart files into the inbox, as `chartflow ingest` does, and waits for each day's
 * run: the sandbox's {@link chaosChart} of each day as charts.spotify.com writes its files
 * (`regional-br-daily-<day>.csv`, streams included). The same bytes for the same day in every home,
 * so the fault-free reference ingests the very file.
 */
export const ingest = (pipeline: LocalPipeline, days: readonly string[]) => {
  const catalog = pipeline.sandbox?.catalog;
  if (!catalog) throw new Error('a chaos pipeline runs on its own sandbox, whose charts it ingests');
  return pipeline.ingest(
    days.map((chartDate) => {
      const rows = sandboxChartRows(catalog, chaosChart, chartDate, { topStreams: 900_000, step: 7_919 });
      return {
        name: datedChartsFileName(chaosChart, 'daily', chartDate),
        body: Buffer.from(currentChartsCsv(rows), 'utf8'),
      };
    }),
  );
};
