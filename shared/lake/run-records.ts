import { z } from 'zod';
import type { ObjectStore } from '../ports/object-store.js';
import { chartId, runId } from '../records/messages.js';
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

/** What happened to one load of one run of a day and chart: kept in the lake, one object per load. */
export const runRecordSchema = z.object({
  runId,
  loadId: runId,
  chartId,
  chartDate: isoDate,
  status: z.enum(runStatuses),
  rows: z.record(z.string(), z.number().int().nonnegative()),
  checks: z.array(checkResultSchema).default([]),
  timings: z.object({ loadMs: z.number(), checksMs: z.number(), dbtMs: z.number() }).partial().default({}),
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
