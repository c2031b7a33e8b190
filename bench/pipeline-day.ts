import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLocalConfig } from '../shared/config/config.js';
import { LocalPipeline } from '../infra/local/runtime.js';

/**
 * `npm run bench`: a sandbox day of 200 chart entries, end to end on the embedded default, in a
 * fresh home. Prints the wall time of each phase and the HTTP requests made to each provider.
 */
const days = ['2026-10-01', '2026-10-02', '2026-10-03'];
const home = await mkdtemp(path.join(tmpdir(), 'chartflow-bench-'));
const pipeline = await LocalPipeline.start({
  config: parseLocalConfig({ CHARTFLOW_HOME: home }),
  processEnv: process.env,
});
const rows: string[][] = [
  ['day', 'entries', 'status', 'total s', 'extract', 'enrich', 'load', 'checks', 'dbt', 'requests'],
];
try {
  for (const chartDate of days) {
    const started = performance.now();
    const s = await pipeline.run({ chartId: 'global', chartDate });
    const total = performance.now() - started;
    const t = s.timingsMs;
    rows.push([
      chartDate,
      String(s.rows.stage.chart_songs ?? 0),
      s.status,
      (total / 1000).toFixed(2),
      ...[t.extract, t.enrich, t.load, t.checks, t.dbt].map((ms) => (ms / 1000).toFixed(2)),
      Object.entries(s.requests)
        .map(([p, n]) => `${p} ${n}`)
        .join(', '),
    ]);
  }
} finally {
  await pipeline.close();
  await rm(home, { recursive: true, force: true });
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(
  'chartflow bench: one sandbox day of the global chart (200 entries), end to end on DuckDB; times in seconds\n',
);
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
console.log('\nThe first day includes dbt creating the marts; later days are incremental.');
