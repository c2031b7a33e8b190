import type { Command } from 'commander';
import * as z from 'zod';
import { FsObjectStore } from '../../../adapters/embedded/fs-object-store.js';
import {
  describeLakeProblem,
  failingKinds,
  lakeIsSound,
  lakeProblemKinds,
  sealLake,
  verifyLake,
  type DaySeal,
  type LakeRange,
  type LakeVerdict,
} from '../../../../shared/lake/verify-lake.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import { HomeLock } from '../../home-lock.js';
import type { CliContext } from '../context.js';
import {
  commandLine,
  dayRangeShape,
  fromNotAfterTo,
  parseOptions,
  UsageError,
  waitOption,
  waitShape,
} from '../options.js';
import { onAws, resolveTarget, targetShape, withTargetOptions, type Target } from '../target.js';

const verifyHelp = `
Every day and chart under raw/ is held to its manifests: the files the day's
manifest lists (the chart CSV and the source's payload) and the files each
part manifest lists (the body of a part's marker, of every run), by size and
SHA-256 (on S3, the checksum S3 computed at write time). One line per file
that is damaged (size, checksum), missing, unlisted (under the day's raw/
prefixes, listed by no manifest), unreadable (a manifest or marker that is
not one), or unverified (a manifest or marker written before checksums).
A re-run or a first run under way, and parts of earlier runs, are not damage.

--seal records, once, the checksums of unverified manifests and markers as
the lake holds them now, for days whose run has loaded (claimed its load);
a verified manifest is never rewritten. It writes to the lake: on this
machine it takes the home, as any writer does (--wait).

Exit code: 0 when nothing is damaged, missing, unlisted or unreadable
(unverified days alone: 0, with a line offering --seal); 1 otherwise; 2 for a
usage or configuration mistake.`;

/** `chartflow verify`: the lake against its manifests, and `--seal` for days written before checksums. */
export const registerVerify = (
  program: Command,
  context: CliContext,
  setExitCode: (code: number) => void,
): void => {
  withTargetOptions(
    program
      .command('verify')
      .description('check every lake file against its manifest (size, SHA-256), and name what is not')
      .option('--from <YYYY-MM-DD>', 'the first chart day to check (default: the first in the lake)')
      .option('--to <YYYY-MM-DD>', 'the last chart day to check (default: the last in the lake)')
      .option('--chart <id>', 'one chart (default: every chart)')
      .option('--json', 'print the outcome as one JSON object')
      .option('--seal', 'record the checksums of days and parts written before checksums, once')
      .option(...waitOption),
  )
    .addHelpText('after', verifyHelp)
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(
        z
          .object({
            ...dayRangeShape(context.clock),
            json: z.boolean().default(false),
            seal: z.boolean().default(false),
            wait: z.string().optional(),
            ...targetShape,
          })
          .refine(...fromNotAfterTo),
        raw,
      );
      if (options.wait !== undefined && !(options.seal && options.target === 'embedded'))
        throw new UsageError('--wait is for --seal on this machine only: verify alone writes nothing.');
      const { wait } = parseOptions(z.object(waitShape), { wait: options.wait });
      const range: LakeRange = { from: options.from, to: options.to, chartId: options.chart };
      const target = resolveTarget(options, context);

      const { lake, seals, verdict } = await onLake(
        context,
        target,
        wait,
        command,
        async (store) => {
          context.note(`chartflow: verifying ${what(range)}…`);
          const sealed = options.seal ? await sealLake(store, range) : undefined;
          return { seals: sealed, verdict: await verifyLake(store, range) };
        },
        options.seal,
      );
      for (const day of verdict.days)
        for (const note of day.notes) context.note(`chartflow: ${day.chartId} ${day.chartDate}: ${note}`);
      context.out(
        options.json
          ? JSON.stringify({
              lake,
              ...range,
              ...verdict,
              ok: lakeIsSound(verdict),
              ...(seals ? { seals } : {}),
            })
          : formatVerdict(lake, range, verdict, seals),
      );
      setExitCode(lakeIsSound(verdict) ? 0 : 1);
    });
};

/**
 * Runs `work` on the lake of the target: this machine's folder, or the stack's bucket. A seal on
 * this machine takes only the home's lock, not the pipeline: it touches the lake alone (no sandbox,
 * no warehouse, no dbt), and the lock is what keeps every other writer out meanwhile.
 */
const onLake = async <T extends object>(
  context: CliContext,
  target: Target,
  waitSeconds: number,
  command: Command,
  work: (store: ObjectStore) => Promise<T>,
  writes: boolean,
): Promise<T & { lake: string }> => {
  if (target.kind === 'aws')
    return onAws(target, async (aws) => {
      const { LakeBucketName } = await aws.outputs(['LakeBucketName']);
      const { store, label } = aws.lake(LakeBucketName);
      return { lake: label, ...(await work(store)) };
    });
  const config = context.config();
  const store = new FsObjectStore({ root: config.lakeRoot });
  if (!writes) return { lake: config.lakeRoot, ...(await work(store)) };
  const lock = await HomeLock.acquire({
    command: commandLine(command),
    waitMs: waitSeconds * 1000,
    home: config.home,
    note: context.note,
  });
  try {
    return { lake: config.lakeRoot, ...(await work(store)) };
  } finally {
    await lock.release();
  }
};

const what = (range: LakeRange) =>
  `${range.chartId ?? 'every chart'}${range.from ? ` from ${range.from}` : ''}${range.to ? ` to ${range.to}` : ''}`;

/** One line per sealed or skipped file, one per problem file, then the total. */
const formatVerdict = (
  lake: string,
  range: LakeRange,
  verdict: LakeVerdict,
  seals: readonly DaySeal[] | undefined,
): string => {
  const lines = [`verify ${what(range)} in ${lake}`];
  for (const seal of seals ?? []) {
    for (const { key, files } of seal.sealed) lines.push(`sealed ${key}: ${files} file(s) listed`);
    for (const { key, why } of seal.skipped) lines.push(`not sealed ${key}: ${why}`);
  }
  const problems = verdict.days.flatMap((d) => d.problems);
  lines.push(...problems.map(describeLakeProblem));
  const counts = lakeProblemKinds
    .filter((kind) => verdict.counts[kind] > 0)
    .map((kind) => `${verdict.counts[kind]} ${kind}`);
  lines.push(
    `total: ${verdict.days.length} day(s), ${verdict.checked} file(s) checked, ${
      counts.length > 0 ? counts.join(', ') : 'no problem'
    }${lakeIsSound(verdict) ? '' : ` (failing: ${[...failingKinds].join(', ')})`}`,
  );
  if (verdict.counts.unverified > 0)
    lines.push(
      `${verdict.counts.unverified} manifest(s), marker(s) or part(s) were written before checksums: chartflow verify --seal records them once.`,
    );
  return lines.join('\n');
};
