import { missingKinds } from '../../../shared/records/missing-reasons.js';
import type { BackfillSummary, BacklogCount, MissingCounts, RunSummary } from '../run-summary.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What the headline adds for a load refused because lake files are not what their manifests say. */
const refusal = (s: RunSummary): string =>
  s.damagedFiles.length === 0
    ? ''
    : `, refused: ${s.damagedFiles.length === 1 ? 'a lake file is' : `${s.damagedFiles.length} lake files are`} not what the manifests say, nothing was staged`;

/** A run summary as a person reads it. */
export const formatSummary = (s: RunSummary): string => {
  const lines = [
    `${s.chartId} ${s.chartDate}: ${s.status}${refusal(s)}${s.runId ? ` (run ${s.runId})` : ''}`,
    ...(s.reason && s.damagedFiles.length === 0 ? [`  reason          ${s.reason}`] : []),
    ...s.damagedFiles.map((f) => `  damaged         ${f.key}: ${f.kind} (${f.detail})`),
    `  rows loaded     ${entries(s.rows.stage)}`,
    `  marts           ${entries(s.rows.marts)}; this day in fct_chart_entries: ${s.rows.chartEntriesThisDay}`,
    `  HTTP requests   ${entries(s.requests) || 'none'}${s.spotifyAccess === 'none' ? ' (no Spotify app)' : s.spotifyAccess === 'unknown' ? '' : ` (Spotify access: ${s.spotifyAccess})`}`,
    `  checks          ${s.checks.passed} passed, ${s.checks.failed.length} failed`,
    ...s.checks.failed.map((c) => `    ✗ ${c.name}${c.detail ? `: ${c.detail}` : ''}`),
    `  dead-lettered   ${s.deadLettered.length}`,
    ...s.deadLettered.map((d) => `    ${d.trackId}: ${d.reason}`),
    `  skipped         ${s.skipped.length}`,
    ...s.skipped.map((k) => `    position ${k.position}: ${k.reason}`),
    `  quarantined     ${s.quarantined.length}`,
    ...s.quarantined.map((q) => `    ${q.key}: ${q.reason}`),
    `  time            extract ${seconds(s.timingsMs.extract)}, enrich ${seconds(s.timingsMs.enrich)}, load ${seconds(
      s.timingsMs.load,
    )}, checks ${seconds(s.timingsMs.checks)}, dbt ${seconds(s.timingsMs.dbt)}`,
  ];
  if (s.top.length) {
    lines.push('  top of the chart');
    // Names keep their newlines in the data; on one line of a terminal they are shown as ⏎.
    for (const t of s.top)
      lines.push(`    ${String(t.position).padStart(3)}. ${t.trackName.replace(/\r?\n/g, ' ⏎ ')}`);
  }
  lines.push(...missingLines(s.missing, s.backlog));
  lines.push(...breakerLines(s.openBreakers));
  if (s.dbtMessage) lines.push(`  dbt said        ${s.dbtMessage}`);
  for (const f of s.failedInvocations) lines.push(`  failed          ${f.functionName}: ${f.error}`);
  return lines.join('\n');
};

/** The endpoints switched off by their breakers, one line each. */
const breakerLines = (open: RunSummary['openBreakers']): string[] =>
  open.map((b) => `  switched off    ${b.endpoint}: ${b.reason}; last error: ${b.lastError}`);

/**
 * A backfill batch as a person reads it: the batch's outcome and totals first, then one line per
 * day (its own rows and checks; its status is the batch's), then what went wrong, by day.
 */
export const formatBackfill = (s: BackfillSummary): string => {
  const first = s.days[0];
  const last = s.days.at(-1);
  const t = s.timingsMs;
  const lines = [
    `backfill ${first?.chartDate ?? ''} to ${last?.chartDate ?? ''}: ${s.status} (batch ${s.batchId}: ${s.loads} of ${s.days.length} day(s) loaded, transformed by one dbt build)`,
    `  rows loaded     ${entries(s.rows) || 'none'}`,
    `  marts           ${entries(s.marts) || 'none'}`,
    `  HTTP requests   ${entries(s.requests) || 'none'}${s.spotifyAccess === 'none' ? ' (no Spotify app)' : s.spotifyAccess === 'unknown' ? '' : ` (Spotify access: ${s.spotifyAccess})`}`,
    `  checks          ${s.loads - s.failedLoads} load(s) passed, ${s.failedLoads} failed`,
    ...s.failedChecks.map((f) => `    ✗ ${f.chartId} ${f.chartDate}: ${f.checks.join(', ')}`),
    ...(s.failedLoads > s.failedChecks.length
      ? [`    … and ${s.failedLoads - s.failedChecks.length} more load(s)`]
      : []),
    `  dead-lettered   ${sum(s.days, (d) => d.deadLettered.length)}`,
    `  skipped         ${sum(s.days, (d) => d.skipped.length)}`,
    `  quarantined     ${sum(s.days, (d) => d.quarantined.length)}`,
    `  time            ${seconds(t.total)}: loading the days ${seconds(t.load)} (fetch ${seconds(t.fetch)}, enrich ${seconds(t.enrich)}, load ${seconds(t.stageLoad)}, overlapping), then checks ${seconds(t.checks)}, dbt ${seconds(t.dbt)}`,
  ];
  if (s.dbtMessage) lines.push(`  dbt said        ${s.dbtMessage}`);
  for (const f of s.failedInvocations) lines.push(`  failed          ${f.functionName}: ${f.error}`);
  lines.push(
    ...missingLines(
      {
        notFound: sum(s.days, (d) => d.missing.notFound),
        withoutFeatures: sum(s.days, (d) => d.missing.withoutFeatures),
        byKind: Object.fromEntries(
          missingKinds.map((kind) => [kind, sum(s.days, (d) => d.missing.byKind[kind])]),
        ) as MissingCounts['byKind'],
      },
      s.backlog,
    ),
  );
  lines.push(...breakerLines(s.openBreakers));
  lines.push(
    '  days            chart, day, status, rows loaded, checks passed/failed, rows in fct_chart_entries',
  );
  for (const d of s.days) {
    lines.push(
      `    ${d.chartId} ${d.chartDate}  ${d.status}  ${entries(d.rows) || 'no rows'}  checks ${d.checks.passed}/${d.checks.failed.length}  entries ${d.chartEntries}`,
    );
    for (const c of d.checks.failed) lines.push(`      ✗ ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    for (const x of d.deadLettered) lines.push(`      dead-lettered ${x.trackId}: ${x.reason}`);
    for (const x of d.skipped) lines.push(`      skipped position ${x.position}: ${x.reason}`);
    for (const x of d.quarantined) lines.push(`      quarantined ${x.key}: ${x.reason}`);
  }
  return lines.join('\n');
};

/**
 * What the rows lack and why: tracks not found, tracks without features, tracks missing a group
 * by the kind of reason, and the persistent backlog `chartflow retry-missing` asks again.
 */
const missingLines = (m: MissingCounts, backlog: BacklogCount | null): string[] => [
  `  missing         ${m.notFound} track(s) not found, ${m.withoutFeatures} without audio features; by reason: ${missingKinds
    .map((kind) => `${kind} ${m.byKind[kind]}`)
    .join(', ')}`,
  ...(backlog
    ? [
        `  backlog         ${backlog.tracks} track(s) kept in the lake to ask again${
          backlog.until ? ` after ${backlog.until} (a quota)` : ''
        }: chartflow retry-missing`,
      ]
    : []),
];

const sum = <T>(items: readonly T[], count: (item: T) => number) =>
  items.reduce((total, item) => total + count(item), 0);

/** Whether a backfill batch ended as it should: every day loaded and transformed, nothing failed for good. */
export const backfillSucceeded = (s: BackfillSummary): boolean =>
  s.status === 'succeeded' &&
  s.days.every((d) => d.status === 'succeeded') &&
  s.failedInvocations.length === 0;

const entries = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** Whether a run ended as it should: transformed, with nothing failed for good. */
export const succeeded = (s: RunSummary): boolean =>
  s.status === 'succeeded' && s.failedInvocations.length === 0;
