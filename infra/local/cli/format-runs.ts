import type { RunRecord } from '../../../shared/lake/run-records.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Statuses of a run that has not ended yet. */
const underWay: ReadonlySet<RunRecord['status']> = new Set(['loaded', 'transforming']);
/** Statuses of a run that ended badly. */
const failedStatuses: ReadonlySet<RunRecord['status']> = new Set(['checks_failed', 'transform_failed']);

/** Whether a run ended badly: its checks or its transform failed. */
export const runFailed = (record: RunRecord): boolean => failedStatuses.has(record.status);

const statusText = (record: RunRecord) =>
  record.status === 'loaded'
    ? 'loaded (under way: waiting for its transform)'
    : record.status === 'transforming'
      ? 'transforming (under way)'
      : record.status;

/** One run record as a person reads it: what the load held and how it ended. */
export const formatRunRecord = (r: RunRecord): string => {
  const passed = r.checks.filter((c) => c.passed).length;
  const failed = r.checks.filter((c) => !c.passed);
  const lines = [
    `${r.chartId} ${r.chartDate}: ${statusText(r)} (run ${r.runId}, load ${r.loadId}; updated ${r.updatedAt})`,
    `  rows loaded     ${
      Object.entries(r.rows)
        .map(([table, n]) => `${table} ${n}`)
        .join(', ') || 'none'
    }`,
    `  checks          ${r.checks.length ? `${passed} passed, ${failed.length} failed` : 'not run yet'}`,
    ...failed.map((c) => `    ✗ ${c.name}${c.detail ? `: ${c.detail}` : ''}`),
  ];
  if (r.batch) {
    const b = r.batch;
    lines.push(
      `  batch           ${b.batchId}: ${b.loads} load(s), one dbt build${
        b.failedLoads ? `; ${b.failedLoads} load(s) failed their checks` : ''
      }`,
      ...b.failed.map((f) => `    ✗ ${f.chartId} ${f.chartDate}: ${f.checks.join(', ')}`),
    );
  }
  if (r.transform) {
    lines.push(
      `  transform       task ${r.transform.taskId}, started ${r.transform.startedAt}${
        r.transform.finishedAt ? `, finished ${r.transform.finishedAt}` : ''
      }`,
    );
    if (r.transform.message) lines.push(`  dbt said        ${r.transform.message}`);
  }
  const t = r.timings;
  const times = [
    t.loadMs === undefined ? undefined : `load ${seconds(t.loadMs)}`,
    t.checksMs === undefined ? undefined : `checks ${seconds(t.checksMs)}`,
    t.dbtMs === undefined ? undefined : `dbt ${seconds(t.dbtMs)}`,
  ].filter(Boolean);
  if (times.length) lines.push(`  time            ${times.join(', ')}`);
  return lines.join('\n');
};

/** The last line under a list of runs: how they ended, and which failed. */
export const formatRunsOutcome = (records: readonly RunRecord[]): string => {
  const failed = records.filter(runFailed);
  const waiting = records.filter((r) => underWay.has(r.status)).length;
  if (failed.length) {
    return `${failed.length} of the ${records.length} run(s) shown failed: ${failed
      .map((r) => `${r.chartId} ${r.chartDate} (${r.status})`)
      .join(', ')}.`;
  }
  return waiting
    ? `${records.length - waiting} run(s) shown succeeded, ${waiting} still under way.`
    : `all ${records.length} run(s) shown succeeded.`;
};
