import { newId } from '../../../shared/ids.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../../shared/lake/run-records.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
import type { EventBus } from '../../../shared/ports/event-bus.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import {
  eventSource,
  transformRequestedDetailType,
  type ChartDay,
  type TransformRequested,
} from '../../../shared/records/messages.js';
import type { CliContext } from './context.js';
import { formatRunRecord, formatRunsOutcome, runFailed } from './format-runs.js';
import type { ChartFileToIngest } from './chart-files.js';
import { onAws, type Target } from './target.js';

/** How `--wait` polls the lake: every 10 s, for at most an hour (a year of days is one dbt build). */
export const ingestWait = { intervalMs: 10_000, polls: 360 } as const;

const ended: ReadonlySet<RunRecord['status']> = new Set(['succeeded', 'checks_failed', 'transform_failed']);

interface AwsIngestOptions {
  readonly json: boolean;
  readonly wait: boolean;
}

/** Where a batch's progress stands, read from the lake. */
interface BatchProgress {
  /** The runs of the batch's days that started after it (one per day once each has landed). */
  readonly runs: readonly RunRecord[];
  /** Whether the transform fixed the batch (it has started, or ran). */
  readonly fixed: boolean;
  /** Days that will not join: their run was refused, or never loaded. */
  readonly notLoaded: readonly ChartDay[];
}

/**
 * `chartflow ingest --target aws`: puts the chart files into the deployed lake's inbox as one batch
 * (docs/aws.md, "History on AWS"). First the days it expects (`control/batches/batch=<id>/expected.json`),
 * then each file under `inbox/charts/batch=<id>/`: chart-fetch lands each as a day of the batch, the
 * stage loader loads it, and the loader that finds every expected day loaded asks for the batch's one
 * transform. With `--wait`, it follows the batch in the lake until its transform has ended; a day that
 * will not load (a refused file) does not hold the others: the command then asks for the transform of
 * those that did. Returns the exit code.
 */
export const ingestOnAws = (
  files: readonly ChartFileToIngest[],
  options: AwsIngestOptions,
  target: Extract<Target, { kind: 'aws' }>,
  context: CliContext,
): Promise<number> =>
  onAws(target, async (aws) => {
    const { LakeBucketName: bucket, EventBusName: busName } = await aws.outputs([
      'LakeBucketName',
      'EventBusName',
    ]);
    const { store, label } = aws.lake(bucket);
    const batchId = newId(context.clock);
    const days = files.map((f) => ({ chartId: f.identity.chartId, chartDate: f.identity.chartDate }));
    await new TransformBatches(store).expect({ batchId, createdAt: context.clock.now().toISOString(), days });
    const keys: string[] = [];
    for (const file of files) {
      const key = lakeKeys.inboxBatchChart(batchId, file.identity.inboxFileName);
      await store.put(key, file.body, { contentType: 'text/csv' });
      keys.push(key);
      context.note(`chartflow: [${keys.length}/${files.length}] put ${file.path} into ${key}`);
    }
    const put = `put ${files.length} chart file(s) into ${label} as batch ${batchId}: one dbt build once every day is loaded`;
    if (!options.wait) {
      context.out(
        options.json
          ? JSON.stringify({ bucket, batchId, keys, days })
          : `${put}\n\nThe days now run on AWS: ${statusHint(target)} shows them.`,
      );
      return 0;
    }
    const progress = await follow(store, aws.eventBus(busName), batchId, days, context);
    const done =
      progress.fixed && progress.runs.length > 0 && progress.runs.every((r) => ended.has(r.status));
    const timedOut = done
      ? ''
      : `\n\nThe batch did not end within ${(ingestWait.intervalMs * ingestWait.polls) / 60_000} minutes: ${statusHint(target)} shows it when it does; \`chartflow reconcile --target aws\` finds it if it is stuck.`;
    context.out(
      options.json
        ? JSON.stringify({ bucket, batchId, keys, days, runs: progress.runs, ended: done })
        : [
            put,
            ...progress.runs.map(formatRunRecord),
            ...(progress.runs.length ? [formatRunsOutcome(progress.runs)] : []),
          ].join('\n\n') + timedOut,
    );
    return done && !progress.runs.some(runFailed) && progress.notLoaded.length === 0 ? 0 : 1;
  });

/**
 * Polls the batch until its transform has ended. Once every day has either joined the batch or
 * will not (a `not_loaded` run), and some joined, it asks for the transform itself if nobody has:
 * the stage loader asks only when every expected day is loaded.
 */
const follow = async (
  store: ObjectStore,
  bus: EventBus,
  batchId: string,
  days: readonly ChartDay[],
  context: CliContext,
): Promise<BatchProgress> => {
  context.note(`chartflow: waiting for the ${days.length} day(s) of batch ${batchId} to load and transform…`);
  let progress: BatchProgress = { runs: [], fixed: false, notLoaded: [] };
  let requested = false;
  for (let poll = 0; poll < ingestWait.polls; poll += 1) {
    await context.clock.sleep(ingestWait.intervalMs);
    progress = await readProgress(store, batchId, days);
    if (progress.fixed && progress.runs.every((r) => ended.has(r.status))) return progress;
    const settled = progress.runs.filter((r) => r.status !== 'not_loaded').length + progress.notLoaded.length;
    if (!progress.fixed && !requested && progress.notLoaded.length > 0 && settled === days.length) {
      const missing = progress.notLoaded.map((d) => `${d.chartId} ${d.chartDate}`).join(', ');
      context.note(`chartflow: ${missing} will not load; asking for the transform of the other days`);
      const detail: TransformRequested = { batchId };
      await bus.publish({ source: eventSource, detailType: transformRequestedDetailType, detail });
      requested = true;
    }
  }
  return progress;
};

const readProgress = async (
  store: ObjectStore,
  batchId: string,
  days: readonly ChartDay[],
): Promise<BatchProgress> => {
  const batches = new TransformBatches(store);
  const records = new RunRecords(store);
  const fixed = await batches.read(batchId);
  const runs: RunRecord[] = [];
  const notLoaded: ChartDay[] = [];
  for (const day of days) {
    // The runs of the day that started after the batch was made: ids sort by time (shared/ids.ts).
    const after = (await records.list(day)).filter((r) => r.runId > batchId);
    const latest = after.sort((a, b) => a.loadId.localeCompare(b.loadId)).at(-1);
    if (!latest) continue;
    runs.push(latest);
    if (latest.status === 'not_loaded') notLoaded.push(day);
  }
  const loads = new Set(fixed?.loads.map((l) => l.loadId));
  return {
    runs: fixed ? runs.filter((r) => loads.has(r.loadId) || r.status === 'not_loaded') : runs,
    fixed: fixed !== undefined,
    notLoaded,
  };
};

const statusHint = (target: Extract<Target, { kind: 'aws' }>) =>
  `chartflow status --target aws --stage ${target.stage} --region ${target.region}`;
