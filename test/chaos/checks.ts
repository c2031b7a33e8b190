import type { LocalPipeline } from '../../infra/local/runtime.js';
import { MissingBacklog } from '../../shared/lake/backlog.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { describeLakeProblem, failingKinds, verifyLake } from '../../shared/lake/verify-lake.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { ChartDay } from '../../shared/records/messages.js';
import { stageRows } from '../support/pipeline.js';
import { dayKey } from './scenario.js';

/**
 * The checks a completed scenario's end state must pass (docs/chaos.md, "Checks"). Each answers the
 * violations it found, in sentences; none means it holds.
 */

/** A check of the lake against its manifests: every damaged, missing or unlisted file, in sentences. */
export type LakeVerifier = (store: ObjectStore) => Promise<string[]>;

/**
 * `chartflow verify`'s core (`shared/lake/verify-lake.ts`), run on the lake of every completed
 * scenario: every file that is damaged, missing, unlisted or unreadable, named with its day. Days
 * written before checksums (`unverified`) cannot occur here, and would not fail the lake.
 */
export const lakeVerifier: LakeVerifier | undefined = async (store) => {
  const verdict = await verifyLake(store);
  return verdict.days.flatMap((day) =>
    day.problems
      .filter((problem) => failingKinds.has(problem.kind))
      .map((problem) => `${day.chartId} ${day.chartDate}: ${describeLakeProblem(problem)}`),
  );
};

/** Marts as `martSnapshot` gives them: sorted JSON lines per table, audit columns left out. */
export type Marts = Record<string, string[]>;

/** How two snapshots differ, a sentence per table, with one row for an example. */
export const martDifferences = (actual: Marts, expected: Marts): string[] => {
  const problems: string[] = [];
  for (const table of [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort()) {
    const have = actual[table] ?? [];
    const want = expected[table] ?? [];
    const missing = multisetMinus(want, have);
    const extra = multisetMinus(have, want);
    if (missing.length === 0 && extra.length === 0) continue;
    const example = missing[0] ?? extra[0];
    problems.push(
      `marts.${table}: ${missing.length} row(s) of the fault-free run missing, ${extra.length} row(s) more; e.g. ${missing.length > 0 ? 'missing' : 'extra'} ${example?.slice(0, 300)}`,
    );
  }
  return problems;
};

const multisetMinus = (from: readonly string[], minus: readonly string[]): string[] => {
  const counts = new Map<string, number>();
  for (const row of minus) counts.set(row, (counts.get(row) ?? 0) + 1);
  return from.filter((row) => {
    const n = counts.get(row) ?? 0;
    if (n === 0) return true;
    counts.set(row, n - 1);
    return false;
  });
};

/** The stage holds no row, and no lock is left in the lake. */
export const leftovers = async (pipeline: LocalPipeline): Promise<string[]> => {
  const problems: string[] = [];
  const rows = await stageRows(pipeline.warehouse);
  if (rows > 0) problems.push(`the stage holds ${rows} row(s)`);
  const locks = await pipeline.store.list('control/locks/');
  for (const lock of locks) problems.push(`a lock is left: ${lock.key}`);
  return problems;
};

interface DayEntries {
  readonly rows: number;
  readonly tracks: number;
}

const entriesOf = async (pipeline: LocalPipeline, day: ChartDay): Promise<DayEntries> => {
  const tables = await pipeline.warehouse.query<{ n: number }>(
    `select count(*) as n from information_schema.tables where table_schema = 'marts' and table_name = 'fct_chart_entries'`,
  );
  if (Number(tables[0]?.n ?? 0) === 0) return { rows: 0, tracks: 0 };
  const [row] = await pipeline.warehouse.query<{ rows: number; tracks: number }>(
    `select count(*) as rows, count(distinct track_id) as tracks from marts.fct_chart_entries
     where chart_id = :chart and cast(chart_date as varchar) = :date`,
    { chart: day.chartId, date: day.chartDate },
  );
  return { rows: Number(row?.rows ?? 0), tracks: Number(row?.tracks ?? 0) };
};

/** No chart entry lost or duplicated: each day's fct_chart_entries holds its manifest's tracks, once each. */
export const chartEntries = async (pipeline: LocalPipeline, days: readonly ChartDay[]): Promise<string[]> => {
  const problems: string[] = [];
  for (const day of days) {
    const manifest = await readManifest(pipeline.store, day);
    const expected = new Set(manifest?.trackIds ?? []).size;
    const { rows, tracks } = await entriesOf(pipeline, day);
    if (rows !== tracks) problems.push(`${dayKey(day)}: ${rows - tracks} chart entries duplicated`);
    if (tracks !== expected)
      problems.push(`${dayKey(day)}: ${tracks} chart entries in the marts, the manifest lists ${expected}`);
  }
  return problems;
};

/**
 * Every failure is named: after the faulty part (and the restart's recovery), a day whose chart
 * entries are not all in the marts has a reason somewhere a user looks: its newest run record says
 * it did not succeed, the backlog or the quarantine holds its tracks, or its messages are dead
 * letters. A day whose newest record says `succeeded` while its entries are missing failed
 * silently. Days of a command that failed are named by its failure (`told`): the process died in
 * it, or it ended with an error, which the CLI prints before it exits 1.
 */
export const unnamedFailures = async (
  pipeline: LocalPipeline,
  days: readonly ChartDay[],
  told: ReadonlySet<string>,
  deadLetters: readonly string[],
): Promise<string[]> => {
  const problems: string[] = [];
  const records = new RunRecords(pipeline.store);
  const backlog = await new MissingBacklog(pipeline.store).list();
  const quarantined = await pipeline.store.list(`quarantine/`);
  for (const day of days) {
    const { chartId, chartDate } = day;
    const manifest = await readManifest(pipeline.store, day);
    const { tracks } = await entriesOf(pipeline, day);
    if (manifest && tracks === new Set(manifest.trackIds).size) continue;
    const newest = (await records.list(day)).at(-1);
    if (newest?.status === 'succeeded' && manifest && newest.runId === manifest.runId) {
      problems.push(
        `${dayKey(day)}: recorded succeeded, yet ${tracks} of its ${manifest.trackIds.length} chart entries are in the marts`,
      );
      continue;
    }
    const named =
      (newest !== undefined && newest.status !== 'succeeded') ||
      backlog.some((entry) => entry.chartDate === chartDate && entry.chartId === chartId) ||
      quarantined.some((o) => o.key.includes(`date=${chartDate}/`) && o.key.includes(`chart=${chartId}/`)) ||
      deadLetters.some((body) => body.includes(chartDate) && body.includes(chartId)) ||
      told.has(dayKey(day));
    if (!named)
      problems.push(
        `${dayKey(day)}: not in the marts (${tracks} entries) and named nowhere: no failed run record, backlog, quarantine or dead letter`,
      );
  }
  return problems;
};
