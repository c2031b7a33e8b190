import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { isoDate } from '../../../shared/lake/keys.js';
import { chartId } from '../../../shared/records/messages.js';
import type { LocalConfig } from '../../../shared/config/config.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { HomeWriter } from '../home-lock.js';
import { defaultLockWaitMs } from '../lock-wait.js';

/** A mistake in how the command was called: printed as one sentence, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const today = (clock: Clock) => clock.now().toISOString().slice(0, 10);

const monthNames = new Intl.DateTimeFormat('en', { month: 'long', timeZone: 'UTC' });

/**
 * Why a YYYY-MM-DD with a real month is not a day of it ("February 2026 has 28 days"), or
 * `undefined` when it is one, or when its month is not a month (then it is not a date at all).
 */
const notADay = (value: string): string | undefined => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12) return undefined;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day >= 1 && day <= days) return undefined;
  const name = monthNames.format(new Date(Date.UTC(year, month - 1, 1)));
  return `${value} is not a day (${name} ${match[1]} has ${days} days)`;
};

/** A `--date`: a real calendar day (YYYY-MM-DD), not after today (UTC). */
export const chartDateOption = (flag: string, clock: Clock) =>
  z.string({ message: `${flag} is required` }).superRefine((value, ctx) => {
    if (isoDate.safeParse(value).success) {
      if (value > today(clock)) {
        ctx.addIssue({
          code: 'custom',
          message: `${flag} cannot be in the future (today is ${today(clock)} UTC)`,
        });
      }
      return;
    }
    const why = notADay(value);
    ctx.addIssue({
      code: 'custom',
      message: why ? `${flag} ${why}` : `${flag} must be a date as YYYY-MM-DD`,
    });
  });

export const chartOption = chartId;

/**
 * `--from`, `--to` and `--chart` of a command that looks at a range of chart days (verify,
 * reconcile): spread into its schema, and refine it with {@link fromNotAfterTo}.
 */
export const dayRangeShape = (clock: Clock) => ({
  from: chartDateOption('--from', clock).optional(),
  to: chartDateOption('--to', clock).optional(),
  chart: chartOption.optional(),
});

/** The refinement of a {@link dayRangeShape}: `.refine(...fromNotAfterTo)`. */
export const fromNotAfterTo = [
  (o: { from?: string | undefined; to?: string | undefined }) =>
    o.from === undefined || o.to === undefined || o.from <= o.to,
  { message: '--from must not be after --to' },
] as const;

/** Parses a command's options with its schema; the first problem becomes a one-sentence UsageError. */
export const parseOptions = <T>(schema: z.ZodType<T>, options: unknown): T => {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option = issue.path.length
    ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
    : 'the options';
  throw new UsageError(issue.message.startsWith('--') ? `${issue.message}.` : `${option}: ${issue.message}.`);
};

/** Refuses a chart that the configured source does not have, before anything is written. */
export const assertKnownChart = (chart: string | undefined, known: readonly string[]): void => {
  if (chart !== undefined && !known.includes(chart)) {
    throw new UsageError(`--chart ${chart} is not a configured chart (known: ${known.join(', ')}).`);
  }
};

/** dbt must be installed in the project's virtualenv before a run can transform. */
export const assertDbtInstalled = (config: LocalConfig): void => {
  if (!existsSync(path.join(config.projectRoot, '.venv', 'bin', 'dbt'))) {
    throw new ConfigError(
      'dbt is not installed: run "bash infra/local/ensure-dbt-venv.sh" (npm start does it for you).',
    );
  }
};

/** At most a day: a longer `--wait` is a typo, not a plan. */
const maxWaitSeconds = 86_400;

/** A `--wait <seconds>`: how long a writing command waits for a home (or a lock) another command holds. */
export const waitSecondsOption = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of seconds (0: do not wait)')
  .transform(Number)
  .pipe(z.number().max(maxWaitSeconds, `must be at most ${maxWaitSeconds} (a day)`));

const waitHelp = `how long to wait, in seconds, when another chartflow command is writing to the home (default: ${
  defaultLockWaitMs / 1000
}; 0: do not wait); then exit 2`;

/**
 * `--wait <seconds>`, for a writing command's `.option(...waitOption)`; spread {@link waitShape}
 * into its schema and give {@link homeWriter} to `withPipeline`. See docs/reliability.md, "Locks:
 * one writer per home".
 */
export const waitOption = ['--wait <seconds>', waitHelp] as const;

/** The schema of `--wait`, to spread into a writing command's own: seconds, a minute unless told. */
export const waitShape = { wait: waitSecondsOption.default(defaultLockWaitMs / 1000) };

/** The command line as given, near enough to tell a user which command holds the home. */
export const commandLine = (command: Command): string => {
  const flags = command.options.flatMap((option) => {
    const value: unknown = command.getOptionValue(option.attributeName());
    if (value === undefined || value === false || option.long === undefined) return [];
    return value === true ? [option.long] : [option.long, String(value)];
  });
  return ['chartflow', command.name(), ...command.args, ...flags]
    .map((word) => (/^[\w./:=@,+-]+$/.test(word) ? word : JSON.stringify(word)))
    .join(' ');
};

/** What a writing command gives `withPipeline`: who it is, and how long it waits for the home. */
export const homeWriter = (command: Command, waitSeconds: number): HomeWriter => ({
  command: commandLine(command),
  waitMs: waitSeconds * 1000,
});
