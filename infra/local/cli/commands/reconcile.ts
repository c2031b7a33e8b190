import type { Command } from 'commander';
import * as z from 'zod';
import type { ReconcileReport } from '../../../../services/reconciler/report.js';
import { reconcileReportSchema } from '../../../../services/reconciler/report.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import { parseOrThrow } from '../../../../shared/parse.js';
import { withPipeline, type CliContext } from '../context.js';
import { formatReconcile, reconcileExitCode } from '../format-reconcile.js';
import {
  dayRangeShape,
  fromNotAfterTo,
  homeWriter,
  parseOptions,
  UsageError,
  waitOption,
  waitShape,
} from '../options.js';
import { onAws, resolveTarget, targetShape, withTargetOptions, type Target } from '../target.js';

const reconcileHelp = `
Finds every chart day that lost events or interrupted runs left inconsistent,
and repairs it through the service that owns each step: a complete day never
loaded (its ObjectCreated lost) is handed to the stage loader again; a load
never transformed gets its "Stage Loaded" again; a backfill batch never
requested gets its "Transform Requested"; a transform whose clean-up never
came is ended (stage emptied, recorded interrupted, lock given back) and its
day loaded again; stage rows of ended runs are removed; a lock past its TTL
is given back; a day that can never complete is recorded not_loaded. Then it
says, per chart, when its last run succeeded. See docs/reliability.md, "The
reconciler". A second reconcile finds nothing.

On this machine it takes the home (--wait) and waits for the loads and
transforms it started. With --target aws the stack's reconciler function does
it there (it also runs every hour); its loads and transforms go on after the
command ends: chartflow status --target aws shows them.

Exit code: 0 when nothing was found, or everything found was repaired (and,
on this machine, each day loaded again succeeded); 1 when --dry-run found
something, a repair failed, or a day loaded again did not succeed; 2 for a
usage or configuration mistake.`;

/** The options, with the dates checked against today. */
const optionsSchema = (context: CliContext) =>
  z
    .object({
      ...dayRangeShape(context.clock),
      dryRun: z.boolean().default(false),
      json: z.boolean().default(false),
      wait: z.string().optional(),
      ...targetShape,
    })
    .refine(...fromNotAfterTo);

/** `chartflow reconcile`: find what lost events left inconsistent, and repair it (docs/reliability.md). */
export const registerReconcile = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  withTargetOptions(
    program
      .command('reconcile')
      .description('find the chart days that lost events left inconsistent, and repair them')
      .option('--from <YYYY-MM-DD>', 'the first chart day to look at (default: 6 days before --to)')
      .option('--to <YYYY-MM-DD>', 'the last chart day to look at (default: today, UTC)')
      .option('--chart <id>', 'one chart (default: every chart)')
      .option('--dry-run', 'find and report, repair nothing')
      .option('--json', 'print the report as one JSON object')
      .option(...waitOption),
  )
    .addHelpText('after', reconcileHelp)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema(context), raw);
      const request = {
        ...(options.from ? { from: options.from } : {}),
        ...(options.to ? { to: options.to } : {}),
        ...(options.chart ? { chartId: options.chart } : {}),
        dryRun: options.dryRun,
      };
      if (options.target === 'aws' && options.wait !== undefined)
        throw new UsageError(
          '--wait is for this machine (how long to wait for the home): with --target aws the reconciler function runs on AWS.',
        );
      const target = resolveTarget(options, context);
      const { report, outcomes } =
        target.kind === 'aws'
          ? { report: await reconcileOnAws(request, target, context), outcomes: [] }
          : await reconcileHere(request, command, options.wait, context);
      context.out(options.json ? JSON.stringify({ ...report, outcomes }) : formatReconcile(report, outcomes));
      setExitCode(reconcileExitCode(report, outcomes));
    });
};

type Request = { from?: string; to?: string; chartId?: string; dryRun: boolean };

/** On this machine: the home taken, no recovery first (the reconciler finds and says what it left). */
const reconcileHere = async (
  request: Request,
  command: Command,
  wait: string | undefined,
  context: CliContext,
): Promise<{ report: ReconcileReport; outcomes: RunRecord[] }> => {
  const { wait: seconds } = parseOptions(z.object(waitShape), { wait });
  return withPipeline(
    context,
    context.config(),
    homeWriter(command, seconds),
    async (pipeline) => {
      const report = await pipeline.reconcile(request);
      return { report, outcomes: await outcomesOf(pipeline.store, report) };
    },
    { recover: false },
  );
};

/** How each day the repairs loaded or transformed again ended: its newest run record now. */
const outcomesOf = async (store: ObjectStore, report: ReconcileReport): Promise<RunRecord[]> => {
  const restarted = new Set<string>();
  for (const action of report.actions) {
    if (action.error !== undefined || !action.chartId || !action.chartDate) continue;
    if (['redelivered_object_created', 'published_stage_loaded'].includes(action.kind))
      restarted.add(`${action.chartDate}/${action.chartId}`);
  }
  const records = new RunRecords(store);
  const newest = await Promise.all(
    [...restarted].sort().map(async (day) => {
      const [chartDate, chartId] = day.split('/') as [string, string];
      return (await records.list({ chartDate, chartId })).at(-1);
    }),
  );
  return newest.filter((r): r is RunRecord => r !== undefined);
};

/** With --target aws: the stack's reconciler function, invoked and waited for; its report, parsed. */
const reconcileOnAws = (
  request: Request,
  target: Extract<Target, { kind: 'aws' }>,
  context: CliContext,
): Promise<ReconcileReport> =>
  onAws(target, async (aws) => {
    const { ReconcilerFunctionName: functionName } = await aws.outputs(['ReconcilerFunctionName']);
    context.note(`chartflow: reconciling with ${functionName} in ${target.region}…`);
    const answer = await aws.clients.functions.invoke(functionName, request);
    return parseOrThrow(
      reconcileReportSchema,
      answer,
      `${functionName} answered what is not a reconcile report`,
    );
  });
