import type { RunRecord } from '../../../shared/lake/run-records.js';
import type { Row } from './report-data.js';
import { shareFeatures } from './report-queries.js';

/**
 * The report's charts as Vega-Lite specifications (https://vega.github.io/vega-lite/): plain JSON
 * that says what to draw from which rows, which the page hands to vega-embed. Vega-Lite because a
 * chart is then data, built and tested here without a browser, and rendered by a well-kept library.
 */
export type ChartSpec = Record<string, unknown>;

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';
const width = 640;

/** How a chart entry moved since its previous day in the run, as the chart-now table and chart say it. */
export const moveOf = (row: Row): 'new' | 're-entry' | 'up' | 'down' | 'same' => {
  if (row.is_new_entry === true) return 'new';
  if (row.is_re_entry === true) return 're-entry';
  const moved = Number(row.positions_moved ?? 0);
  return moved > 0 ? 'up' : moved < 0 ? 'down' : 'same';
};

const moveColours = {
  domain: ['up', 'down', 'same', 'new', 're-entry'],
  range: ['#2a9d8f', '#e76f51', '#8d99ae', '#f4a261', '#6d597a'],
};

/** A label that keeps an ordinal axis in chart order: `  7. Track name`. */
const ranked = (position: unknown, name: unknown) =>
  `${String(position).padStart(3)}. ${String(name ?? '?')}`;

/** The chart now: days on the chart of each of the top entries, coloured by its move. */
export const chartNowSpec = (rows: readonly Row[]): ChartSpec => ({
  $schema: schema,
  width,
  height: { step: 14 },
  data: {
    values: rows.map((r) => ({
      entry: ranked(r.position, r.track_name),
      position: r.position,
      track: r.track_name,
      artist: r.lead_artist_name,
      days: r.days_on_chart,
      move: moveOf(r),
      moved: r.positions_moved,
    })),
  },
  mark: { type: 'bar', tooltip: true },
  encoding: {
    y: { field: 'entry', type: 'ordinal', sort: { field: 'position' }, title: null },
    x: { field: 'days', type: 'quantitative', title: 'days on the chart in this run' },
    color: { field: 'move', type: 'nominal', scale: moveColours, title: 'since the day before' },
    tooltip: [
      { field: 'position', title: 'position' },
      { field: 'track', title: 'track' },
      { field: 'artist', title: 'lead artist' },
      { field: 'move', title: 'move' },
      { field: 'moved', title: 'places' },
      { field: 'days', title: 'days in this run' },
    ],
  },
});

/**
 * Trajectories: one line per track, position 1 on top; a run is a line of its own, so a re-entry
 * starts a new line after a gap.
 */
export const trajectoriesSpec = (rows: readonly Row[]): ChartSpec => ({
  $schema: schema,
  width,
  height: 360,
  data: {
    values: rows.map((r) => ({
      date: r.chart_date,
      track: r.track_name,
      position: r.position,
      run: r.chart_run_number,
    })),
  },
  mark: { type: 'line', point: { size: 12 }, tooltip: true, strokeWidth: 1.5 },
  encoding: {
    x: { field: 'date', type: 'temporal', timeUnit: 'utcyearmonthdate', title: null },
    y: {
      field: 'position',
      type: 'quantitative',
      scale: { reverse: true, zero: false, domainMin: 1 },
      title: 'position (1 is the top)',
    },
    color: { field: 'track', type: 'nominal', title: 'track', legend: { orient: 'bottom', columns: 2 } },
    detail: { field: 'run', type: 'ordinal' },
    tooltip: [
      { field: 'track' },
      { field: 'date', type: 'temporal', timeUnit: 'utcyearmonthdate' },
      { field: 'position' },
      { field: 'run', title: 'run' },
    ],
  },
});

const barsOf = (
  rows: readonly Row[],
  label: (r: Row) => string,
  value: string,
  title: string,
): ChartSpec => ({
  width: 300,
  height: { step: 14 },
  data: { values: rows.map((r, i) => ({ label: label(r), order: i, value: r[value] })) },
  mark: { type: 'bar', tooltip: true, color: '#457b9d' },
  encoding: {
    y: { field: 'label', type: 'ordinal', sort: { field: 'order' }, title: null },
    x: { field: 'value', type: 'quantitative', title },
  },
});

/** Longevity: how long runs last, and the tracks and artists that stay longest. */
export const longevitySpecs = (data: {
  runLengths: readonly Row[];
  tracks: readonly Row[];
  artists: readonly Row[];
}): { runs: ChartSpec; tracks: ChartSpec; artists: ChartSpec } => ({
  runs: {
    $schema: schema,
    width,
    height: 200,
    data: { values: data.runLengths.map((r) => ({ days: r.days_on_chart, runs: r.runs })) },
    mark: { type: 'bar', tooltip: true, color: '#457b9d' },
    encoding: {
      x: {
        field: 'days',
        type: 'quantitative',
        bin: { maxbins: 40 },
        title: 'run length (days on the chart)',
      },
      y: { aggregate: 'sum', field: 'runs', type: 'quantitative', title: 'runs' },
    },
  },
  tracks: {
    $schema: schema,
    ...barsOf(
      data.tracks,
      (r) => `${String(r.track_name)} (${String(r.lead_artist_name ?? '?')})`,
      'total_days_on_chart',
      'days on the chart',
    ),
  },
  artists: {
    $schema: schema,
    ...barsOf(data.artists, (r) => String(r.artist_name), 'days_on_chart', 'days with a track on the chart'),
  },
});

/** Rows of average features as one row per group and feature, which one chart can lay out. */
const featureValues = (rows: readonly Row[], group: (r: Row) => unknown, order: (r: Row) => unknown) =>
  rows.flatMap((r) =>
    shareFeatures.map((feature) => ({
      group: group(r),
      order: order(r),
      feature,
      value: r[`avg_${feature}`],
    })),
  );

const featureAxis = {
  field: 'feature',
  type: 'nominal',
  sort: [...shareFeatures],
  title: null,
  axis: { labelAngle: 0 },
};

/** The average features of each band of positions, as a heat map with its values written in. */
const bandsSpec = (bands: readonly Row[]): ChartSpec => ({
  $schema: schema,
  width,
  height: { step: 28 },
  data: {
    values: featureValues(
      bands,
      (r) => r.position_band,
      (r) => r.position_band_order,
    ),
  },
  encoding: {
    x: featureAxis,
    y: { field: 'group', type: 'ordinal', sort: { field: 'order' }, title: 'positions' },
  },
  layer: [
    {
      mark: { type: 'rect', tooltip: true },
      encoding: {
        color: {
          field: 'value',
          type: 'quantitative',
          scale: { domain: [0, 1], scheme: 'blues' },
          title: 'average',
        },
      },
    },
    {
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        text: { field: 'value', type: 'quantitative', format: '.2f' },
        color: { condition: { test: 'datum.value > 0.6', value: 'white' }, value: 'black' },
      },
    },
  ],
});

/** Charting tracks against the catalog sample's, feature by feature. */
const catalogSpec = (catalog: readonly Row[]): ChartSpec => ({
  $schema: schema,
  width,
  height: 220,
  data: {
    values: featureValues(
      catalog,
      (r) => r.catalog_group,
      (r) => r.catalog_group,
    ),
  },
  mark: { type: 'bar', tooltip: true },
  encoding: {
    x: featureAxis,
    xOffset: { field: 'group' },
    y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: 'average' },
    color: { field: 'group', type: 'nominal', title: 'tracks' },
  },
});

/**
 * What charting songs have in common: features by position band, against the catalog (none when
 * no catalog sample was collected), and where the features came from.
 */
export const featuresSpecs = (data: {
  bands: readonly Row[];
  catalog: readonly Row[];
  sources: readonly Row[];
}): { bands: ChartSpec; catalog: ChartSpec | undefined; sources: ChartSpec } => ({
  bands: bandsSpec(data.bands),
  catalog: data.catalog.some((r) => r.catalog_group === 'non_charting' && Number(r.tracks) > 0)
    ? catalogSpec(data.catalog)
    : undefined,
  sources: {
    $schema: schema,
    ...barsOf(data.sources, (r) => String(r.features_source), 'tracks', 'charting tracks of the period'),
  },
});

/** New releases per ISO week: how many entered, the best position one reached, how long they stayed. */
export const newReleasesSpec = (weeks: readonly Row[]): ChartSpec => {
  const x = { field: 'week', type: 'temporal', timeUnit: 'utcyearmonthdate', title: 'week starting' };
  const values = weeks.map((w) => ({
    week: w.week_start,
    entered: w.entered,
    best: w.best_position,
    days: w.avg_total_days_on_chart,
  }));
  return {
    $schema: schema,
    data: { values },
    vconcat: [
      {
        width,
        height: 120,
        mark: { type: 'bar', tooltip: true, color: '#f4a261' },
        encoding: { x, y: { field: 'entered', type: 'quantitative', title: 'entered the chart' } },
      },
      {
        width,
        height: 120,
        mark: { type: 'line', point: true, tooltip: true, color: '#2a9d8f' },
        encoding: {
          x,
          y: {
            field: 'best',
            type: 'quantitative',
            scale: { reverse: true, zero: false, domainMin: 1 },
            title: 'best position',
          },
        },
      },
      {
        width,
        height: 120,
        mark: { type: 'bar', tooltip: true, color: '#457b9d' },
        encoding: { x, y: { field: 'days', type: 'quantitative', title: 'average days on the chart' } },
      },
    ],
  };
};

/** Data health: one square per run, by day (a day run again has a square per run), coloured by how it ended. */
export const healthSpec = (runs: readonly RunRecord[]): ChartSpec => {
  const attempts = new Map<string, number>();
  const values = [...runs]
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
    .map((r) => {
      const attempt = (attempts.get(r.chartDate) ?? 0) + 1;
      attempts.set(r.chartDate, attempt);
      return {
        day: r.chartDate,
        attempt,
        run: r.runId,
        status: r.status,
        rows: r.rows.chart_songs ?? 0,
        failed: r.checks.filter((c) => !c.passed).length,
      };
    });
  return {
    $schema: schema,
    width,
    height: { step: 22 },
    data: { values },
    mark: { type: 'square', size: 180, tooltip: true, opacity: 1 },
    encoding: {
      x: { field: 'day', type: 'ordinal', title: null, sort: 'ascending' },
      y: { field: 'attempt', type: 'ordinal', title: 'run of the day', sort: 'ascending' },
      color: {
        field: 'status',
        type: 'nominal',
        title: 'how it ended',
        scale: {
          domain: [
            'succeeded',
            'loaded',
            'transforming',
            'checks_failed',
            'transform_failed',
            'interrupted',
            'not_loaded',
          ],
          range: ['#2a9d8f', '#8ecae6', '#8ecae6', '#e76f51', '#e63946', '#f4a261', '#adb5bd'],
        },
      },
      tooltip: [
        { field: 'day' },
        { field: 'run' },
        { field: 'status' },
        { field: 'rows', title: 'chart rows loaded' },
        { field: 'failed', title: 'checks failed' },
      ],
    },
  };
};
