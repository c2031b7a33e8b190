import { metricDefinitions, type Metrics, type RunOutcome } from '../../../shared/ports/metrics.js';

/** A figure as CloudWatch would get it: the metric's name, its value, its dimensions but `service`. */
export interface RecordedFigure {
  readonly name: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * Metrics kept in memory, in the order they were emitted: what a test reads to hold a service to
 * the figures it emits, on one machine where nothing is sent to CloudWatch.
 */
export class RecordingMetrics implements Metrics {
  readonly figures: RecordedFigure[] = [];

  rowsLoaded(dataset: string, rows: number): void {
    this.#add(metricDefinitions.rowsLoaded.name, rows, { dataset });
  }

  providerRequests(provider: string, requests: number, throttled: number): void {
    this.#add(metricDefinitions.providerRequests.name, requests, { provider });
    this.#add(metricDefinitions.providerThrottled.name, throttled, { provider });
  }

  quarantined(items: number): void {
    this.#add(metricDefinitions.quarantined.name, items);
  }

  deadLettered(items: number): void {
    this.#add(metricDefinitions.deadLettered.name, items);
  }

  checksFailed(checks: number): void {
    this.#add(metricDefinitions.checksFailed.name, checks);
  }

  dbtDuration(seconds: number): void {
    this.#add(metricDefinitions.dbtDuration.name, seconds);
  }

  runOutcome(outcome: RunOutcome, chartId: string, runs: number): void {
    this.#add(metricDefinitions.runs.name, runs, { outcome, chart: chartId });
  }

  staleCharts(charts: readonly string[]): void {
    this.#add(metricDefinitions.staleCharts.name, charts.length);
  }

  /** The figures of one metric, by its name. */
  named(name: string): RecordedFigure[] {
    return this.figures.filter((f) => f.name === name);
  }

  #add(name: string, value: number, dimensions: Record<string, string> = {}): void {
    this.figures.push({ name, value, dimensions });
  }
}
