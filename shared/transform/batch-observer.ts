import { addLogKeys } from '../log-keys.js';
import type { Metrics } from '../ports/metrics.js';
import type { BatchObserver } from './batch-protocol.js';

/**
 * What transform and stage-cleanup do with what becomes of a batch: its id and its runs' ids go
 * on their log lines, and its figures to the metrics, each once (docs/aws.md, "Metrics and the
 * dashboard"): how many checks failed, how long dbt ran, and the runs' outcome per chart.
 */
export const batchObserver = (metrics: Metrics): BatchObserver => ({
  batch: ({ batchId, loads }) => addLogKeys({ batchId, runIds: loads.map((load) => load.runId) }),
  checked: (failedChecks) => metrics.checksFailed(failedChecks),
  ended: ({ status, runsPerChart, dbtSeconds }) => {
    if (dbtSeconds !== undefined) metrics.dbtDuration(dbtSeconds);
    for (const [chartId, runs] of Object.entries(runsPerChart)) metrics.runOutcome(status, chartId, runs);
  },
});
