import type { RunSummary } from '../run-summary.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A run summary as a person reads it. */
export const formatSummary = (s: RunSummary): string => {
  const lines = [
    `${s.chartId} ${s.chartDate}: ${s.status}${s.runId ? ` (run ${s.runId})` : ''}`,
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
  if (s.backlog) {
    lines.push(
      `  backlog         ${s.backlog.tracks} track(s) wait in the queue: a provider asked for a pause; next attempt in ${seconds(s.backlog.nextAttemptInMs)}`,
    );
  }
  if (s.dbtMessage) lines.push(`  dbt said        ${s.dbtMessage}`);
  for (const f of s.failedInvocations) lines.push(`  failed          ${f.functionName}: ${f.error}`);
  return lines.join('\n');
};

const entries = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** Whether a run ended as it should: transformed, with nothing failed for good. */
export const succeeded = (s: RunSummary): boolean =>
  s.status === 'succeeded' && s.failedInvocations.length === 0;
