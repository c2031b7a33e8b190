import type { Action, Finding, LeftAlone, ReconcileReport } from '../../../services/reconciler/report.js';
import type { RunRecord } from '../../../shared/lake/run-records.js';

/** "br 2026-08-01 run X load Y batch Z": what a line is about, as much as it names. */
const subjectOf = (line: Finding | Action | LeftAlone): string =>
  [
    line.chartId,
    line.chartDate,
    line.runId && `run ${line.runId}`,
    line.loadId && line.loadId !== line.runId && `load ${line.loadId}`,
    line.batchId && `batch ${line.batchId}`,
  ]
    .filter(Boolean)
    .join(' ') || 'the warehouse';

/**
 * The report as people read it, one line each: what was found and why, what was done (or, for a
 * dry run, that nothing was), what was left alone because a live run may be at it, each chart's
 * freshness, and (on one machine) how each day the repairs loaded again ended.
 */
export const formatReconcile = (report: ReconcileReport, outcomes: readonly RunRecord[] = []): string => {
  const window = `${report.from} to ${report.to}, ${report.chartId ? `chart ${report.chartId}` : 'every chart'}`;
  const failed = report.actions.filter((a) => a.error !== undefined).length;
  const headline =
    report.findings.length === 0
      ? `reconcile ${window}: nothing inconsistent found`
      : `reconcile ${window}: found ${report.findings.length}, ${
          report.dryRun
            ? 'repaired nothing (--dry-run)'
            : `did ${report.actions.length}${failed ? `, ${failed} failed` : ''}`
        }`;
  return [
    headline,
    ...report.findings.map((f) => `  found  ${f.kind}: ${subjectOf(f)}: ${f.evidence}`),
    ...report.actions.map(
      (a) => `  did    ${a.kind}: ${subjectOf(a)}: ${a.detail}${a.error ? ` — FAILED: ${a.error}` : ''}`,
    ),
    ...report.leftAlone.map((l) => `  left   ${subjectOf(l)}: ${l.why}`),
    ...outcomes.map(
      (r) =>
        `  ended  ${r.chartId} ${r.chartDate}: ${r.status} (load ${r.loadId})${r.reason ? `: ${r.reason}` : ''}`,
    ),
    ...report.freshness.map(
      (f) =>
        `  fresh  ${f.chartId}: ${
          f.lastSucceededAt ? `last succeeded ${f.lastSucceededAt}` : 'never succeeded'
        }${f.stale ? `, STALE (more than ${report.staleAfterHours} h)` : ''}`,
    ),
  ].join('\n');
};

/**
 * 0 when the lake is consistent after the command (nothing found, or every repair done and every
 * day it loaded again succeeded); 1 when a dry run found something, a repair failed, or a day it
 * loaded again did not succeed. Stale charts are told, not failed: the freshness alarm is theirs.
 */
export const reconcileExitCode = (report: ReconcileReport, outcomes: readonly RunRecord[] = []): number => {
  if (report.findings.length === 0) return 0;
  if (report.dryRun) return 1;
  if (report.actions.some((a) => a.error !== undefined)) return 1;
  return outcomes.every((r) => r.status === 'succeeded') ? 0 : 1;
};
