import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  metricDefinitions,
  metricsNamespace,
  type MetricDefinition,
  type Metrics,
  type RunOutcome,
} from '../../../shared/ports/metrics.js';

export interface PowertoolsMetricsOptions {
  /** The stack's name: the `service` dimension of every figure, so that two stages never mix. */
  readonly stackName: string;
}

const units: Record<MetricDefinition['unit'], (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
};

/** One figure: the metric's definition, its value, its dimensions' values, what goes beside it. */
interface Figure {
  readonly definition: MetricDefinition;
  readonly value: number;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The metrics port on Powertools for AWS Lambda (Metrics): each figure is one CloudWatch embedded
 * metric format (EMF) line, in the namespace `chartflow`, with the stack as its `service`
 * dimension. A figure is written at once, not buffered until the invocation ends: the figures have
 * dimensions of their own (one EMF line carries one set of dimension values), and a figure written
 * when its fact happens is not lost when the invocation fails later (docs/aws.md, "Metrics and the
 * dashboard").
 */
export class PowertoolsMetricsAdapter implements Metrics {
  readonly #stackName: string;

  constructor(options: PowertoolsMetricsOptions) {
    this.#stackName = options.stackName;
  }

  rowsLoaded(dataset: string, rows: number): void {
    this.#emit([{ definition: metricDefinitions.rowsLoaded, value: rows, dimensions: { dataset } }]);
  }

  providerRequests(provider: string, requests: number, throttled: number): void {
    this.#emit([
      { definition: metricDefinitions.providerRequests, value: requests, dimensions: { provider } },
      { definition: metricDefinitions.providerThrottled, value: throttled, dimensions: { provider } },
    ]);
  }

  quarantined(items: number): void {
    this.#emit([{ definition: metricDefinitions.quarantined, value: items }]);
  }

  deadLettered(items: number): void {
    this.#emit([{ definition: metricDefinitions.deadLettered, value: items }]);
  }

  checksFailed(checks: number): void {
    this.#emit([{ definition: metricDefinitions.checksFailed, value: checks }]);
  }

  dbtDuration(seconds: number): void {
    this.#emit([{ definition: metricDefinitions.dbtDuration, value: seconds }]);
  }

  runOutcome(outcome: RunOutcome, chartId: string, runs: number): void {
    this.#emit([
      { definition: metricDefinitions.runs, value: runs, dimensions: { outcome, chart: chartId } },
    ]);
  }

  staleCharts(charts: readonly string[]): void {
    this.#emit([
      {
        definition: metricDefinitions.staleCharts,
        value: charts.length,
        metadata: { staleCharts: [...charts].sort().join(',') },
      },
    ]);
  }

  /**
   * Writes figures that share their dimensions on standard output (which Lambda sends to the
   * function's log): one EMF line per dimension set of their definition, each with that set's
   * values, so that a datum is counted once in each set. A Powertools instance per line: its
   * dimensions are those of the line alone.
   */
  #emit(figures: readonly Figure[]): void {
    const [first] = figures;
    for (const set of first!.definition.dimensionSets) {
      const metrics = new PowertoolsMetrics({ namespace: metricsNamespace, serviceName: this.#stackName });
      if (set.length > 0) {
        metrics.addDimensions(Object.fromEntries(set.map((name) => [name, first!.dimensions?.[name] ?? ''])));
      }
      for (const [key, value] of Object.entries(first!.metadata ?? {})) metrics.addMetadata(key, value);
      for (const { definition, value } of figures) {
        metrics.addMetric(definition.name, units[definition.unit], value);
      }
      metrics.publishStoredMetrics();
    }
  }
}
