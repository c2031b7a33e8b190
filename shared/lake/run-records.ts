import { z } from 'zod';
import type { ObjectStore } from '../ports/object-store.js';
import { batchId, chartId, runId } from '../records/messages.js';
import { describeIssues, InvalidRecordError } from '../errors.js';
import { isoDate, lakeKeys } from './keys.js';

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
  updatedAt: z.iso.datetime(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** Records read and written at once by {@link RunRecords.update}: enough to hide the store's latency, not a flood. */
const concurrentUpdates = 16;

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
    await this.store.put(key, JSON.stringify(runRecordSchema.parse(record), null, 2), {
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
}

const parseRunRecord = (body: Buffer, key: string): RunRecord => {
  const parsed = runRecordSchema.safeParse(JSON.parse(body.toString('utf8')));
  if (!parsed.success) throw new InvalidRecordError(`${key}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
};
