import * as z from 'zod';
import { parseOrThrow } from '../../../shared/parse.js';
import { rawPrefix } from '../../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../../shared/lake/run-records.js';
import type { CliContext } from './context.js';
import { formatRunRecord, formatRunsOutcome, runFailed } from './format-runs.js';
import { UsageError } from './options.js';
import { onAws, type Target } from './target.js';

/** What the replay function answers (services/replay/replay-day.ts's ReplayResult). */
const replayResultSchema = z.object({
  claimsReset: z.number().int().nonnegative(),
  objectsReplayed: z.number().int().nonnegative(),
});

/** How `--wait` polls the run records: every 10 s, for at most 30 minutes. */
export const replayWait = { intervalMs: 10_000, polls: 180 } as const;

// A new load recorded `not_loaded` was refused by the stage loader (a damaged lake file): it has ended too.
const ended: ReadonlySet<RunRecord['status']> = new Set([
  'succeeded',
  'checks_failed',
  'transform_failed',
  'not_loaded',
]);

interface AwsReplayOptions {
  readonly date: string;
  readonly chart?: string | undefined;
  readonly json: boolean;
  readonly wait: boolean;
}

/**
 * `chartflow replay --target aws`: invokes the stack's replay function (RequestResponse), which
 * resets the day's claims and copies its raw objects onto themselves; their ObjectCreated events
 * then reload and transform the day on AWS. Without `--wait` it returns once the function has
 * answered; with it, it polls the day's run records until a new load of every replayed chart has
 * ended. Returns the exit code.
 */
export const replayOnAws = (
  options: AwsReplayOptions,
  target: Extract<Target, { kind: 'aws' }>,
  context: CliContext,
): Promise<number> =>
  onAws(target, async (aws) => {
    const { LakeBucketName: bucket, ReplayFunctionName: functionName } = await aws.outputs([
      'LakeBucketName',
      'ReplayFunctionName',
    ]);
    const { store } = aws.lake(bucket);
    const runRecords = new RunRecords(store);
    const what = `${options.chart ?? 'every chart'} ${options.date}`;

    const charts = [
      ...new Set(
        (await store.list(rawPrefix('chart_songs', options.date, options.chart))).map(
          ({ key }) => /\/chart=([^/]+)\//.exec(key)?.[1] ?? '',
        ),
      ),
    ].filter(Boolean);
    if (charts.length === 0) {
      throw new UsageError(
        `There is nothing to replay for ${options.chart ?? 'any chart'} on ${options.date}: the lake (s3://${bucket}) has no such day.`,
      );
    }
    const loadsBefore = options.wait ? await loadIdsOf(runRecords, options.date, charts) : new Set<string>();

    context.note(`chartflow: replaying ${what} with ${functionName} in ${target.region}…`);
    const answer = await aws.clients.functions.invoke(functionName, {
      chartDate: options.date,
      ...(options.chart ? { chartId: options.chart } : {}),
    });
    const replay = parseOrThrow(
      replayResultSchema,
      answer,
      `${functionName} answered what is not a replay result`,
    );
    const replayed = `replayed ${replay.objectsReplayed} objects of ${what} in s3://${bucket} (function ${functionName}), ${replay.claimsReset} claim(s) reset`;

    if (!options.wait) {
      context.out(
        options.json
          ? JSON.stringify({ ...where(target, bucket, functionName, options), replay })
          : `${replayed}\n\nThe reload and the transform now run on AWS: ${statusCommand(target, options.date)} shows their outcome.`,
      );
      return 0;
    }

    context.note(
      `chartflow: waiting for the new load of ${charts.join(', ')} ${options.date} to end (up to ${
        (replayWait.intervalMs * replayWait.polls) / 60_000
      } minutes)…`,
    );
    let runs: RunRecord[] = [];
    let done = false;
    for (let poll = 0; poll < replayWait.polls && !done; poll += 1) {
      await context.clock.sleep(replayWait.intervalMs);
      runs = await newLoads(runRecords, options.date, charts, loadsBefore);
      done = runs.length === charts.length && runs.every((r) => ended.has(r.status));
    }
    const timedOut = done
      ? ''
      : `\n\nNot every new load ended within ${(replayWait.intervalMs * replayWait.polls) / 60_000} minutes: ${statusCommand(target, options.date)} shows it when it does.`;
    context.out(
      options.json
        ? JSON.stringify({ ...where(target, bucket, functionName, options), replay, runs, ended: done })
        : [replayed, ...runs.map(formatRunRecord), ...(runs.length ? [formatRunsOutcome(runs)] : [])].join(
            '\n\n',
          ) + timedOut,
    );
    return done && !runs.some(runFailed) ? 0 : 1;
  });

const loadIdsOf = async (runRecords: RunRecords, chartDate: string, charts: readonly string[]) =>
  new Set(
    (await Promise.all(charts.map((chartId) => runRecords.list({ chartDate, chartId }))))
      .flat()
      .map((r) => r.loadId),
  );

/** The newest load of each chart made since the replay, if any. */
const newLoads = async (
  runRecords: RunRecords,
  chartDate: string,
  charts: readonly string[],
  before: ReadonlySet<string>,
): Promise<RunRecord[]> =>
  (
    await Promise.all(
      charts.map(async (chartId) =>
        (await runRecords.list({ chartDate, chartId })).filter((r) => !before.has(r.loadId)).at(-1),
      ),
    )
  ).filter((r): r is RunRecord => r !== undefined);

const where = (
  target: Extract<Target, { kind: 'aws' }>,
  bucket: string,
  functionName: string,
  options: AwsReplayOptions,
) => ({
  stack: target.stackName,
  region: target.region,
  bucket,
  functionName,
  chartDate: options.date,
  ...(options.chart ? { chartId: options.chart } : {}),
});

/** The status command that shows this day on this stack, as the user would type it. */
const statusCommand = (target: Extract<Target, { kind: 'aws' }>, date: string) =>
  `chartflow status --target aws --stage ${target.stage}${
    target.stackName === `chartflow-${target.stage}` ? '' : ` --stack ${target.stackName}`
  } --region ${target.region} --date ${date}`;
