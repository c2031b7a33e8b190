import * as z from 'zod';
import type { ObjectStore } from '../ports/object-store.js';
import { batchId, chartId, requestCountsSchema, runId } from '../records/messages.js';
import { InvalidRecordError } from '../errors.js';
import { parseJsonOrThrow, parseOrThrow } from '../parse.js';
import { isoDate, lakeKeys } from './keys.js';
import { fileProblemKinds } from './lake-files.js';

export const checkResultSchema = z.object({
  name: z.string(),
  passed: z.boolean(),
  /** What failed, in a sentence, when it failed. */
  detail: z.string().optional(),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

export const runStatuses = [
  'loaded',
  'checks_failed',
  'transforming',
  'succeeded',
  'transform_failed',
  /** Stopped part-way (Ctrl-C, a killed process, a dead lock holder); the next run completes the day. */
  'interrupted',
  /** The run never reached the stage (chart-fetch failed, the day never completed): `reason` says why. */
  'not_loaded',
] as const;
export type RunStatus = (typeof runStatuses)[number];

/** At most this many failing loads are named in each run record of a batch that failed its checks. */
export const maxNamedFailures = 20;

/** The transform batch a load ended in: one dbt build for all its loads, one outcome for all. */
export const runBatchSchema = z.object({
  batchId,
  /** How many loads the batch transformed together. */
  loads: z.number().int().positive(),
  /** When the batch failed its checks: how many loads failed them, and the first of those by name. */
  failedLoads: z.number().int().nonnegative().default(0),
  failed: z
    .array(z.object({ chartId, chartDate: isoDate, checks: z.array(z.string()) }))
    .max(maxNamedFailures)
    .default([]),
});
export type RunBatch = z.infer<typeof runBatchSchema>;

/** What happened to one load of one run of a day and chart: kept in the lake, one object per load. */
export const runRecordSchema = z.object({
  runId,
  loadId: runId,
  chartId,
  chartDate: isoDate,
  status: z.enum(runStatuses),
  rows: z.record(z.string(), z.number().int().nonnegative()),
  checks: z.array(checkResultSchema).default([]),
  /** Load time is the load's own; checks and dbt times are its batch's, which ran them for all its loads at once. */
  timings: z.object({ loadMs: z.number(), checksMs: z.number(), dbtMs: z.number() }).partial().default({}),
  batch: runBatchSchema.optional(),
  transform: z
    .object({
      taskId: z.string(),
      startedAt: z.iso.datetime(),
      finishedAt: z.iso.datetime().optional(),
      /** dbt's own words when it failed. */
      message: z.string().optional(),
    })
    .optional(),
  /**
   * What landing the run's day in the lake took, as its manifests recorded it: the HTTP requests per
   * provider (the chart's and its parts' lookups, each part's by the delivery that marked it), and
   * the entries and answers set aside in quarantine. Absent for a load of manifests written before
   * they kept them; `requests` absent when a part's manifest did not.
   */
  landing: z
    .object({ requests: requestCountsSchema.optional(), quarantined: z.number().int().nonnegative() })
    .optional(),
  /**
   * How many of the run's track messages went to the dead-letter queue, for a run that did not
   * load because of them (its day never completed); a run that loaded had every track's attributes.
   * Recorded by the runtime that saw the queue (the local one; on AWS, see docs/report.md).
   */
  deadLettered: z.number().int().nonnegative().optional(),
  /** Why the run is `interrupted` or `not_loaded`, in a sentence. */
  reason: z.string().optional(),
  /** The lake files a load was refused for: not what their manifests say (`lake-files.ts`). */
  damagedFiles: z
    .array(z.object({ key: z.string(), kind: z.enum(fileProblemKinds), detail: z.string() }))
    .optional(),
  updatedAt: z.iso.datetime(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** Records read and written at once by {@link RunRecords.update}: enough to hide the store's latency, not a flood. */
const concurrentUpdates = 16;

/** Which run records {@link RunRecords.latest} returns. */
export interface LatestRunsQuery {
  /** How many records at most. */
  readonly limit: number;
  /** Only this chart's. */
  readonly chartId?: string;
  /** Only this day's. */
  readonly chartDate?: string;
  /**
   * Today (YYYY-MM-DD, UTC): the month the walk through the date partitions starts from. Days are
   * never in the future, so the newest records sit in this month or just before it.
   */
  readonly today: string;
}

const latestRunsQuerySchema = z.object({
  limit: z.number().int().nonnegative(),
  chartId: chartId.optional(),
  chartDate: isoDate.optional(),
  today: isoDate,
});

/** Where every run record lives: `lakeKeys.runRecord` puts them all under it, one date partition a day. */
const runRecordsRoot = 'control/runs/';
const runRecordKeyPattern =
  /^control\/runs\/date=(\d{4}-\d{2}-\d{2})\/chart=([^/]+)\/run=([^/]+)\/load=([^/]+)\.json$/;

/**
 * Months listed one by one, newest first, before the rest of the partitions are listed at once. A
 * daily pipeline's last runs are in the current month or the one before it, so a status usually costs
 * one or two listings however old the lake is; a lake whose last runs are older costs this many
 * listings of empty months more, then one listing of its older keys.
 */
const recentMonths = 2;

/** The month `offset` months before that of `today`, as the text a date partition starts with (`2026-11`). */
const monthBefore = (today: string, offset: number): string => {
  const [year, month] = today.split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - offset;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
};

interface RunRecordKey {
  readonly key: string;
  readonly chartDate: string;
  readonly chartId: string;
  readonly loadId: string;
}

const parseRunRecordKey = (key: string): RunRecordKey | undefined => {
  const match = runRecordKeyPattern.exec(key);
  return match ? { key, chartDate: match[1]!, chartId: match[2]!, loadId: match[4]! } : undefined;
};

// Newest day first; within a day the newest load first (load ids start with the time they were made).
const newestFirst = (a: RunRecordKey, b: RunRecordKey) =>
  b.chartDate.localeCompare(a.chartDate) ||
  b.loadId.localeCompare(a.loadId) ||
  a.chartId.localeCompare(b.chartId);

/** Reads and writes run records in the lake. */
export class RunRecords {
  constructor(private readonly store: ObjectStore) {}

  async read(
    day: { chartDate: string; chartId: string },
    runIdValue: string,
    loadId: string,
  ): Promise<RunRecord | undefined> {
    const key = lakeKeys.runRecord(day.chartDate, day.chartId, runIdValue, loadId);
    const body = await this.store.get(key);
    return body === undefined ? undefined : parseRunRecord(body, key);
  }

  async write(record: RunRecord): Promise<void> {
    const key = lakeKeys.runRecord(record.chartDate, record.chartId, record.runId, record.loadId);
    // One line: Athena reads JSON one record per line (docs/lake.md).
    await this.store.put(key, JSON.stringify(runRecordSchema.parse(record)), {
      contentType: 'application/json',
    });
  }

  /**
   * Rewrites the record of each load from what it holds now (`undefined` if it has none), a few at a
   * time, and returns the new records in the loads' order. How a batch gives all its loads one outcome.
   */
  async update<L extends { chartDate: string; chartId: string; runId: string; loadId: string }>(
    loads: readonly L[],
    change: (previous: RunRecord | undefined, load: L) => RunRecord,
  ): Promise<RunRecord[]> {
    const updated: RunRecord[] = [];
    for (let start = 0; start < loads.length; start += concurrentUpdates) {
      const chunk = loads.slice(start, start + concurrentUpdates);
      updated.push(
        ...(await Promise.all(
          chunk.map(async (load) => {
            const record = change(await this.read(load, load.runId, load.loadId), load);
            await this.write(record);
            return record;
          }),
        )),
      );
    }
    return updated;
  }

  /** Every run record of a day and chart, oldest load first. */
  async list(day: { chartDate: string; chartId: string }): Promise<RunRecord[]> {
    const objects = await this.store.list(lakeKeys.runRecordsPrefix(day.chartDate, day.chartId));
    const records = await Promise.all(
      objects.map(async ({ key }) => parseRunRecord((await this.store.get(key)) ?? Buffer.from('null'), key)),
    );
    return records.sort((a, b) => a.loadId.localeCompare(b.loadId));
  }

  /**
   * The newest run records, newest day first and, within a day, newest load first: what `chartflow
   * status` shows. Only keys are listed to find them, and only the records returned are read.
   *
   * Stores list by prefix and sort by key, and date partitions sort as text, so the walk goes through
   * the date partitions newest first: the month of `today` and the {@link recentMonths} before it one
   * listing each, stopping as soon as `limit` records are found; only then the older partitions, in one
   * listing. Records dated after `today`'s month (a day is never in the future) come with that last
   * listing, so they are found but not put first.
   */
  async latest(request: LatestRunsQuery): Promise<RunRecord[]> {
    const query = parseOrThrow(latestRunsQuerySchema, request, 'run records query');
    const found: RunRecord[] = [];
    const take = async (listed: readonly { key: string }[]) => {
      const keys = listed
        .map(({ key }) => parseRunRecordKey(key))
        .filter((k): k is RunRecordKey => k !== undefined)
        .filter((k) => query.chartId === undefined || k.chartId === query.chartId)
        .filter((k) => query.chartDate === undefined || k.chartDate === query.chartDate)
        .sort(newestFirst)
        .slice(0, query.limit - found.length);
      for (let start = 0; start < keys.length; start += concurrentUpdates) {
        found.push(
          ...(await Promise.all(
            keys.slice(start, start + concurrentUpdates).map(async ({ key }) => {
              const body = await this.store.get(key);
              // Listed a moment ago, gone now: a record is never deleted, so the store changed under us.
              if (body === undefined) throw new InvalidRecordError(`${key}: listed, but could not be read`);
              return parseRunRecord(body, key);
            }),
          )),
        );
      }
    };
    if (query.limit === 0) return found;

    if (query.chartDate !== undefined) {
      await take(
        await this.store.list(
          query.chartId === undefined
            ? `${runRecordsRoot}date=${query.chartDate}/`
            : lakeKeys.runRecordsPrefix(query.chartDate, query.chartId),
        ),
      );
      return found;
    }
    // Stryker disable next-line ArrayDeclaration: a prefix put in at the start is one no key begins with (keys begin with control/runs/), so the filter below leaves out the same keys
    const walked: string[] = [];
    for (let offset = 0; offset <= recentMonths; offset += 1) {
      const prefix = `${runRecordsRoot}date=${monthBefore(query.today, offset)}-`;
      walked.push(prefix);
      await take(await this.store.list(prefix));
      if (found.length >= query.limit) return found;
    }
    await take(
      (await this.store.list(runRecordsRoot)).filter(({ key }) => !walked.some((p) => key.startsWith(p))),
    );
    return found;
  }
}

const parseRunRecord = (body: Buffer, key: string): RunRecord =>
  parseJsonOrThrow(runRecordSchema, body.toString('utf8'), `run record ${key}`);
