import type { Command } from 'commander';
import * as z from 'zod';
import { FsObjectStore } from '../../../adapters/embedded/fs-object-store.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import type { CliContext } from '../context.js';
import { formatShownRun, formatRunsOutcome, runFailed, stuckRuns, type StuckRuns } from '../format-runs.js';
import { TransformLock, type LockHolder } from '../../../../shared/lake/transform-lock.js';
import { processIsAlive } from '../../process-liveness.js';
import { chartDateOption, chartOption, parseOptions } from '../options.js';
import { onAws, resolveTarget, targetShape, withTargetOptions } from '../target.js';

/** At most this many runs are shown at once: each is one object read from the lake. */
const maxLast = 1000;

const exitCodes = `
Runs are read from the run records in the lake (control/runs/), newest day
first and, within a day, newest load first. A run under way (loaded,
transforming) is shown STUCK when nothing will carry it on: the transform
lock's holder is dead or has held it longer than its 3 h TTL, or a run says
transforming while nobody holds the lock.

Exit code: 0 when every run shown succeeded or is truly under way, or when
none is recorded; 1 when any run shown failed (checks_failed,
transform_failed), was interrupted, did not load (not_loaded, with its
reason) or is stuck; 2 for a usage or configuration mistake (no such stack,
no region).`;

/** `chartflow status`: the last runs and how they ended, from the run records in the lake. */
export const registerStatus = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  withTargetOptions(
    program
      .command('status')
      .description('show the last runs and their outcomes (status, rows, failed checks, dbt, timings, batch)')
      .option('--last <n>', 'how many runs (default: 10)')
      .option('--chart <id>', 'only this chart')
      .option('--date <YYYY-MM-DD>', 'only this chart day')
      .option('--json', 'print the runs as one JSON object'),
  )
    .addHelpText('after', exitCodes)
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z.object({
          last: z
            .string()
            .regex(/^\d+$/, 'must be a whole number')
            .transform(Number)
            .pipe(z.number().min(1, 'must be at least 1').max(maxLast, `must be at most ${maxLast}`))
            .default(10),
          chart: chartOption.optional(),
          date: chartDateOption('--date', context.clock).optional(),
          json: z.boolean().default(false),
          ...targetShape,
        }),
        raw,
      );
      const target = resolveTarget(options, context);
      // The runs, and who holds the transform lock: a run under way behind a dead holder is stuck.
      const read = async (store: ObjectStore) => ({
        runs: await new RunRecords(store).latest({
          limit: options.last,
          today: context.clock.now().toISOString().slice(0, 10),
          ...(options.chart ? { chartId: options.chart } : {}),
          ...(options.date ? { chartDate: options.date } : {}),
        }),
        holder: await new TransformLock(store, context.clock).holder(),
      });

      let lake: string;
      let runs: RunRecord[];
      let holder: LockHolder | undefined;
      if (target.kind === 'embedded') {
        const { lakeRoot } = context.config();
        lake = lakeRoot;
        ({ runs, holder } = await read(new FsObjectStore({ root: lakeRoot })));
      } else {
        ({ lake, runs, holder } = await onAws(target, async (aws) => {
          const { LakeBucketName } = await aws.outputs(['LakeBucketName']);
          const { store, label } = aws.lake(LakeBucketName);
          return { lake: label, ...(await read(store)) };
        }));
      }

      setExitCode(
        show(context, options, lake, runs, stuckRuns(runs, holder, context.clock.now(), processIsAlive)),
      );
    });
};

/** Prints the runs (text or `--json`) and answers the exit code: 1 if any failed, was interrupted, did not load or is stuck. */
const show = (
  context: CliContext,
  options: { chart?: string | undefined; date?: string | undefined; json: boolean },
  lake: string,
  runs: readonly RunRecord[],
  stuck: StuckRuns,
): number => {
  if (options.json) {
    const stuckShown = runs
      .filter((r) => stuck.has(r.loadId))
      .map((r) => ({
        chartId: r.chartId,
        chartDate: r.chartDate,
        runId: r.runId,
        loadId: r.loadId,
        reason: stuck.get(r.loadId)!,
      }));
    context.out(JSON.stringify({ lake, runs, stuck: stuckShown }));
  } else if (runs.length === 0) context.out(`no runs recorded${filters(options)} in ${lake}.`);
  else
    context.out(
      [
        `the last ${runs.length} run(s)${filters(options)} in ${lake}, newest day first`,
        ...runs.map((r) => formatShownRun(r, stuck.get(r.loadId))),
        formatRunsOutcome(runs, stuck),
      ].join('\n\n'),
    );
  return runs.some((r) => runFailed(r) || stuck.has(r.loadId)) ? 1 : 0;
};

const filters = (options: { chart?: string | undefined; date?: string | undefined }) =>
  `${options.chart ? ` of ${options.chart}` : ''}${options.date ? ` on ${options.date}` : ''}`;
