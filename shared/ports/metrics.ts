/**
 * The pipeline's figures, as a port: each is a named fact with its own dimensions, emitted where
 * the fact is known, once (docs/aws.md, "Metrics and the dashboard"). On AWS the adapter writes
 * CloudWatch embedded metric format (EMF) lines to the function's log; on one machine nothing is
 * emitted, and `chartflow status` reads the same figures from the run records.
 */
export interface Metrics {
  /** Rows a load put into a stage table (`dataset` is the table: chart_songs, song_attributes, song_artists). */
  rowsLoaded(dataset: string, rows: number): void;
  /** HTTP requests made to a provider by one piece of work, and how many of them were answered 429. */
  providerRequests(provider: string, requests: number, throttled: number): void;
  /** Items a loaded day kept in quarantine (chart entries and attribute answers of a shape refused). */
  quarantined(items: number): void;
  /** Track messages handed back on their last delivery: the queue's redrive dead-letters them. */
  deadLettered(items: number): void;
  /** Data-quality checks that failed on a batch, summed over its loads (0 when every check passed). */
  checksFailed(checks: number): void;
  /** How long a batch's dbt build ran, in seconds. */
  dbtDuration(seconds: number): void;
  /** Runs of a chart that reached an outcome. */
  runOutcome(outcome: RunOutcome, chartId: string, runs: number): void;
  /**
   * The configured charts with no successful run within {@link freshnessHours}: the scheduled
   * reconciler emits it every hour, 0 included, and the freshness alarm fires above 0 or when it is
   * missing. The names go beside the figure in the log line, not in a dimension.
   */
  staleCharts(charts: readonly string[]): void;
}

/** The outcomes a run ends with (the run records' final statuses). */
export const runOutcomes = ['succeeded', 'checks_failed', 'transform_failed', 'not_loaded'] as const;
export type RunOutcome = (typeof runOutcomes)[number];

/** CloudWatch's namespace of every chartflow figure; the stack's name is the `service` dimension. */
export const metricsNamespace = 'chartflow';

/** How long a configured chart may go without a successful run before it is stale. */
export const freshnessHours = 26;

/** One CloudWatch metric: its name, unit, and the dimensions beside `service`, each set it is published with. */
export interface MetricDefinition {
  readonly name: string;
  readonly unit: 'Count' | 'Seconds';
  readonly dimensionSets: readonly (readonly string[])[];
}

/**
 * Every metric the port's methods publish, by name: what the AWS adapter writes, and what the
 * dashboard must show (test/infra/aws/observability.test.ts holds every one of them to a widget).
 */
export const metricDefinitions = {
  rowsLoaded: { name: 'RowsLoaded', unit: 'Count', dimensionSets: [['dataset']] },
  providerRequests: { name: 'ProviderRequests', unit: 'Count', dimensionSets: [['provider']] },
  providerThrottled: { name: 'ProviderThrottled', unit: 'Count', dimensionSets: [['provider']] },
  quarantined: { name: 'QuarantinedItems', unit: 'Count', dimensionSets: [[]] },
  deadLettered: { name: 'DeadLetteredItems', unit: 'Count', dimensionSets: [[]] },
  checksFailed: { name: 'ChecksFailed', unit: 'Count', dimensionSets: [[]] },
  dbtDuration: { name: 'DbtDuration', unit: 'Seconds', dimensionSets: [[]] },
  // Per chart, and per outcome alone so that the dashboard and alarms need not know the charts.
  runs: { name: 'Runs', unit: 'Count', dimensionSets: [['outcome', 'chart'], ['outcome']] },
  staleCharts: { name: 'StaleCharts', unit: 'Count', dimensionSets: [[]] },
} as const satisfies Record<string, MetricDefinition>;

/** Metrics that go nowhere: the local runtime's, and a service's when it is given none. */
export const noMetrics: Metrics = {
  rowsLoaded: () => undefined,
  providerRequests: () => undefined,
  quarantined: () => undefined,
  deadLettered: () => undefined,
  checksFailed: () => undefined,
  dbtDuration: () => undefined,
  runOutcome: () => undefined,
  staleCharts: () => undefined,
};
