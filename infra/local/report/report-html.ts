import type { RunRecord } from '../../../shared/lake/run-records.js';
import type { ResultValue } from '../../../shared/ports/warehouse-reader.js';
import {
  chartNowSpec,
  featuresSpecs,
  healthSpec,
  longevitySpecs,
  moveOf,
  newReleasesSpec,
  trajectoriesSpec,
  type ChartSpec,
} from './report-charts.js';
import type { ReportData, Row, Section } from './report-data.js';
import { reportLimits } from './report-queries.js';

/** The charting library, as the page carries it: the scripts' text, in the order they load. */
export interface ChartScripts {
  readonly scripts: readonly string[];
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A value as a table cell's text: NULL as an en dash, numbers as they are. */
const cell = (value: ResultValue | undefined): string =>
  value === null || value === undefined
    ? '–'
    : escapeHtml(typeof value === 'object' ? JSON.stringify(value) : String(value));

/** JSON inside a <script> element: `<` escaped, so no `</script>` in a track name can end it. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

const table = (
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[],
) =>
  `<table><thead><tr>${headers.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
  `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

/** One section: its question, the marts it reads, its charts (or why there are none), its tables. */
interface SectionHtml {
  readonly id: string;
  readonly title: string;
  readonly question: string;
  readonly source: string;
  readonly body: string;
}

const moveText = (row: Row): string => {
  const move = moveOf(row);
  if (move === 'up') return `▲ ${String(row.positions_moved)}`;
  if (move === 'down') return `▼ ${String(Math.abs(Number(row.positions_moved)))}`;
  if (move === 'same') return '=';
  return move === 'new' ? 'new' : 're-entry';
};

/**
 * Renders a chart's container and registers its spec: the page's script draws every registered
 * spec into its container with vega-embed.
 */
class Charts {
  readonly specs: Record<string, ChartSpec> = {};
  place(id: string, spec: ChartSpec, caption: string): string {
    this.specs[id] = spec;
    return `<figure><div class="chart" id="${id}" data-chart="${id}"></div><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
  }
}

const empty = (section: Extract<Section<unknown>, { kind: 'empty' }>): string =>
  `<p class="empty">${escapeHtml(section.why)}</p>`;

/** What a section shows when it has rows: its body's HTML. */
const bodyOf = <T>(section: Section<T>, body: (rows: T) => string): string =>
  section.kind === 'empty' ? empty(section) : body(section.rows);

const periodOf = (data: ReportData) => `${data.scope.from} to ${data.scope.to}`;

const chartNowSection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'chart-now',
  title: 'The chart now',
  question: `Which tracks lead ${data.scope.chartId} on its last day, how did they move since the day before, and how long have they been there?`,
  source: 'marts.fct_chart_entries, marts.dim_tracks, marts.mart_track_longevity',
  body: bodyOf(
    data.chartNow,
    (rows) =>
      `<p>The top ${reportLimits.chartNow} on <strong>${escapeHtml(data.lastDay ?? '')}</strong>.</p>` +
      charts.place(
        'chart-now-chart',
        chartNowSpec(rows),
        'Days on the chart in the current run, by move since the day before.',
      ) +
      table(
        ['#', 'track', 'lead artist', 'move', 'days in run', 'days in all'],
        rows.map((r) => [
          cell(r.position),
          cell(r.track_name),
          cell(r.lead_artist_name),
          `<span class="move ${moveOf(r)}">${escapeHtml(moveText(r))}</span>`,
          cell(r.days_on_chart),
          cell(r.total_days_on_chart),
        ]),
        [true, false, false, false, true, true],
      ),
  ),
});

const trajectoriesSection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'trajectories',
  title: 'Trajectories',
  question: `How did the ${reportLimits.trajectories} tracks with the most days on the chart from ${periodOf(data)} move?`,
  source: 'marts.fct_chart_entries, marts.dim_tracks',
  body: bodyOf(data.trajectories, (rows) =>
    charts.place(
      'trajectories-chart',
      trajectoriesSpec(rows),
      'Daily positions, position 1 on top. A re-entry starts a new line after a gap.',
    ),
  ),
});

const longevitySection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'longevity',
  title: 'Longevity',
  question: 'How long do tracks stay on the chart, and which stay longest?',
  source: 'marts.fct_chart_runs, marts.mart_track_longevity, marts.mart_artist_longevity',
  body: bodyOf(data.longevity, (rows) => {
    const specs = longevitySpecs(rows);
    return (
      charts.place(
        'longevity-runs-chart',
        specs.runs,
        `Runs on the chart at any time from ${periodOf(data)}, by length.`,
      ) +
      '<div class="pair">' +
      charts.place(
        'longevity-tracks-chart',
        specs.tracks,
        'The tracks with the most days on the chart, over every day the warehouse holds.',
      ) +
      charts.place(
        'longevity-artists-chart',
        specs.artists,
        'The artists with a track on the chart on the most days.',
      ) +
      '</div>'
    );
  }),
});

const featuresSection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'features',
  title: 'What charting songs have in common',
  question: 'What do the songs on the chart sound like, by position, and against the catalog?',
  source: 'marts.mart_features_by_position_band, marts.mart_charting_vs_catalog, marts.dim_tracks',
  body: bodyOf(data.features, (rows) => {
    const { bands, sources } = rows;
    const specs = featuresSpecs(rows);
    const withFeatures = bands.reduce((n, r) => n + Number(r.entries_with_features ?? 0), 0);
    const entries = bands.reduce((n, r) => n + Number(r.entries ?? 0), 0);
    const without = sources.find((s) => s.features_source === 'none');
    return (
      `<p>Over every day the warehouse holds, audio features are known for <strong>${withFeatures}</strong> of <strong>${entries}</strong> chart entries; ` +
      `<strong>${without ? cell(without.tracks) : '0'}</strong> charting tracks of the period have none (counted, not hidden). ` +
      `Where they came from (<code>features_source</code>): ${sources.map((s) => `${cell(s.features_source)} ${cell(s.tracks)}`).join(', ')}.</p>` +
      charts.place(
        'features-bands-chart',
        specs.bands,
        'Average features of the entries in each band of positions, over every day the warehouse holds (each day of an entry counts).',
      ) +
      (specs.catalog
        ? charts.place(
            'features-catalog-chart',
            specs.catalog,
            'Charting tracks against tracks seen only in the catalog sample.',
          )
        : '<p class="empty">No catalog sample collected yet, so no comparison with the catalog: point the chart <code>catalog-sample</code> at a sample playlist (chartflow run --chart catalog-sample).</p>') +
      charts.place(
        'features-sources-chart',
        specs.sources,
        'Charting tracks of the period by where their features came from; none: no features.',
      )
    );
  }),
});

const newReleasesSection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'new-releases',
  title: 'New releases',
  question: `How did new releases fare from ${periodOf(data)}, week by week: how many entered, how high and how long they went?`,
  source: 'marts.mart_new_releases_weekly, marts.mart_track_longevity',
  body: bodyOf(
    data.newReleases,
    (rows) =>
      charts.place(
        'new-releases-chart',
        newReleasesSpec(rows.weeks),
        'Per ISO week: new releases that entered the chart, the best position one reached, their average days on the chart.',
      ) +
      table(
        ['track', 'lead artist', 'released', 'best position', 'days on the chart'],
        rows.top.map((r) => [
          cell(r.track_name),
          cell(r.lead_artist_name),
          cell(r.released_on),
          cell(r.best_position),
          cell(r.total_days_on_chart),
        ]),
        [false, false, false, true, true],
      ),
  ),
});

const healthSection = (data: ReportData, charts: Charts): SectionHtml => ({
  id: 'data-health',
  title: 'Data health',
  question: 'Did the last runs load and transform, and did their checks pass?',
  source: 'the run records in the lake (control/runs/)',
  body: bodyOf(data.health, (runs) => healthBody(runs, charts)),
});

/** The report's sections, in the order the page shows them. */
const sections = (data: ReportData, charts: Charts): SectionHtml[] =>
  [
    chartNowSection,
    trajectoriesSection,
    longevitySection,
    featuresSection,
    newReleasesSection,
    healthSection,
  ].map((section) => section(data, charts));

const healthBody = (runs: readonly RunRecord[], charts: Charts): string =>
  charts.place(
    'data-health-chart',
    healthSpec(runs),
    'The last runs of the chart, by day, by how each ended.',
  ) +
  table(
    [
      'day',
      'run',
      'status',
      'checks',
      'rows (chart, attributes, artists)',
      'requests',
      'quarantined',
      'dead-lettered',
      'dbt',
      'why',
    ],
    runs.map((r) => {
      const failed = r.checks.filter((c) => !c.passed);
      return [
        cell(r.chartDate),
        `<code>${cell(r.runId)}</code>`,
        `<span class="status ${escapeHtml(r.status)}">${cell(r.status)}</span>`,
        `${r.checks.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.map((c) => cell(c.name)).join(', ')}` : ''}`,
        ['chart_songs', 'song_attributes', 'song_artists'].map((t) => cell(r.rows[t] ?? null)).join(' / '),
        r.landing?.requests
          ? Object.entries(r.landing.requests)
              .map(([provider, made]) => `${cell(provider)}&nbsp;${made}`)
              .join(', ') || 'none'
          : '–',
        cell(r.landing?.quarantined ?? null),
        // A run that loaded had every track's attributes: none of its tracks was dead-lettered.
        cell(r.deadLettered ?? (r.landing !== undefined || r.rows.chart_songs !== undefined ? 0 : null)),
        r.timings.dbtMs === undefined ? '–' : `${(r.timings.dbtMs / 1000).toFixed(1)}&nbsp;s`,
        cell(r.reason ?? r.transform?.message ?? null),
      ];
    }),
    [false, false, false, false, false, false, true, true, true, false],
  );

const style = `
:root { color-scheme: light; --ink: #1d3557; --muted: #6c757d; --line: #dee2e6; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; background: #fafafa; }
header, main { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 4px; font-size: 20px; }
nav a { margin-right: 14px; color: var(--ink); }
section { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; margin: 20px 0; }
.question { margin: 0; font-style: italic; }
.source, figcaption, .meta { color: var(--muted); font-size: 13px; }
.empty { background: #fff3cd; border-radius: 6px; padding: 10px 14px; }
figure { margin: 16px 0; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td:first-child, td code { white-space: nowrap; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
.move.up { color: #2a9d8f; } .move.down { color: #e76f51; } .move.new { color: #d17a22; font-weight: 600; } .move.re-entry { color: #6d597a; }
.status.succeeded { color: #2a9d8f; } .status.checks_failed, .status.transform_failed { color: #e63946; font-weight: 600; }
code { font-size: 12px; }
`;

/** Draws every chart of the page; a chart that fails says so in its place, and on the console. */
const boot = `
(function () {
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  Object.keys(specs).forEach(function (id) {
    vegaEmbed('#' + id, specs[id], { actions: false, renderer: 'svg' }).catch(function (error) {
      document.getElementById(id).textContent = 'This chart could not be drawn: ' + error.message;
      console.error(error);
    });
  });
})();
`;

/**
 * The report as one HTML file that opens from `file://` with no network: the charting library's
 * scripts, the styles and the data are all in it (docs/report.md).
 */
export const renderReport = (data: ReportData, library: ChartScripts): string => {
  const charts = new Charts();
  const parts = sections(data, charts);
  const { chartId, from, to } = data.scope;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chartflow: ${escapeHtml(chartId)}, ${from} to ${to}</title>
<style>${style}</style>
</head>
<body>
<header>
<h1>chartflow: ${escapeHtml(chartId)}, ${from} to ${to}</h1>
<p class="meta">Read from ${escapeHtml(data.warehouse)} at ${escapeHtml(data.generatedAt)}; ${data.daysWithEntries} chart day(s) with entries in the period.</p>
<nav>${parts.map((p) => `<a href="#${p.id}">${escapeHtml(p.title)}</a>`).join('')}</nav>
</header>
<main>
${parts
  .map(
    (p) => `<section id="${p.id}" data-section="${p.id}">
<h2>${escapeHtml(p.title)}</h2>
<p class="question">${escapeHtml(p.question)}</p>
<p class="source">From ${escapeHtml(p.source)}.</p>
${p.body}
</section>`,
  )
  .join('\n')}
</main>
<script type="application/json" id="chart-specs">${scriptJson(charts.specs)}</script>
${library.scripts.map((s) => `<script>${s.replace(/<\/script/gi, '<\\/script')}</script>`).join('\n')}
<script>${boot}</script>
</body>
</html>
`;
};
