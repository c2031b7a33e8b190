import type { RunRecord } from '../../../shared/lake/run-records.js';
import { lockTtlMs, type LockHolder } from '../../../shared/lake/transform-lock.js';
import { formatDuration } from '../../../shared/format-duration.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Statuses of a run that has not ended yet. */
const underWay: ReadonlySet<RunRecord['status']> = new Set(['loaded', 'transforming']);
/** Statuses of a run that ended badly: failed, stopped part-way, or never loaded. */
const failedStatuses: ReadonlySet<RunRecord['status']> = new Set([
  'checks_failed',
  'transform_failed',
  'interrupted',
  'not_loaded',
]);

/** Whether a run ended badly: its checks or its transform failed, it was interrupted, or it never loaded. */
export const runFailed = (record: RunRecord): boolean => failedStatuses.has(record.status);

/** Why each run shown is stuck, by load id: what `status` says of runs no one is carrying on. */
export type StuckRuns = ReadonlyMap<string, string>;

/**
 * The runs under way (`loaded`, `transforming`) that nothing will carry on, and why: the transform
 * lock's holder is gone (its process is dead, as `isAlive` tells on this host), or it has held the
 * lock longer than the lock's TTL; or a run says `transforming` while nobody holds the lock, which
 * a transform always holds until its clean-up (docs/reliability.md, "What status tells").
 *
 * @param holder the lock's holder, `undefined` when nobody holds it
 * @param isAlive whether the holder's process lives: `undefined` when this machine cannot tell
 */
export const stuckRuns = (
  records: readonly RunRecord[],
  holder: LockHolder | undefined,
  now: Date,
  isAlive: (holder: LockHolder) => boolean | undefined,
): StuckRuns => {
  const stuck = new Map<string, string>();
  const heldMs = holder ? now.getTime() - Date.parse(holder.acquiredAt) : 0;
  const who = holder
    ? `batch ${holder.batchId}${holder.pid === undefined ? '' : `, pid ${holder.pid}`}${
        holder.host === undefined ? '' : ` on ${holder.host}`
      }${holder.command === undefined ? '' : ` (${holder.command})`}, since ${holder.acquiredAt}`
    : '';
  const lockProblem = !holder
    ? undefined
    : isAlive(holder) === false
      ? `the transform lock's holder is gone (${who})`
      : heldMs > lockTtlMs
        ? `the transform lock has been held for ${formatDuration(heldMs)}, longer than its ${formatDuration(lockTtlMs)} TTL (${who})`
        : undefined;
  for (const r of records.filter((record) => underWay.has(record.status))) {
    if (lockProblem) stuck.set(r.loadId, `stuck: ${lockProblem}; the next run takes the lock over`);
    else if (!holder && r.status === 'transforming') {
      stuck.set(r.loadId, 'stuck: it says transforming, but nobody holds the transform lock');
    }
  }
  return stuck;
};

const statusText = (record: RunRecord) =>
  record.status === 'loaded'
    ? 'loaded (under way: waiting for its transform)'
    : record.status === 'transforming'
      ? 'transforming (under way)'
      : record.status === 'interrupted'
        ? 'interrupted (stopped part-way; the next run completes the day)'
        : record.status === 'not_loaded'
          ? 'not loaded'
          : record.status;

/** One run record as a person reads it: what the load held and how it ended. */
export const formatRunRecord = (r: RunRecord): string => formatShownRun(r, undefined);

/** {@link formatRunRecord}, and for a stuck run why no one carries it on (`stuck`, from {@link stuckRuns}). */
export const formatShownRun = (r: RunRecord, stuck: string | undefined): string => {
  const passed = r.checks.filter((c) => c.passed).length;
  const failed = r.checks.filter((c) => !c.passed);
  const lines = [
    `${r.chartId} ${r.chartDate}: ${stuck ? `${r.status}, STUCK` : statusText(r)} (run ${r.runId}, load ${r.loadId}; updated ${r.updatedAt})`,
    ...(stuck ? [`  stuck           ${stuck.replace(/^stuck: /, '')}`] : []),
    ...(r.reason && !r.damagedFiles?.length ? [`  reason          ${r.reason}`] : []),
    ...(r.damagedFiles ?? []).map((f) => `  damaged         ${f.key}: ${f.kind} (${f.detail})`),
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

/** The last line under a list of runs: how they ended, and which failed or are stuck. */
export const formatRunsOutcome = (records: readonly RunRecord[], stuck: StuckRuns = new Map()): string => {
  const failed = records.filter((r) => runFailed(r) || stuck.has(r.loadId));
  const waiting = records.filter((r) => underWay.has(r.status)).length;
  if (failed.length) {
    return `${failed.length} of the ${records.length} run(s) shown failed: ${failed
      .map((r) => `${r.chartId} ${r.chartDate} (${stuck.has(r.loadId) ? `${r.status}, stuck` : r.status})`)
      .join(', ')}.`;
  }
  return waiting
    ? `${records.length - waiting} run(s) shown succeeded, ${waiting} still under way.`
    : `all ${records.length} run(s) shown succeeded.`;
};
