import { InvalidRecordError } from '../../../shared/errors.js';
import { isoDate } from '../../../shared/lake/keys.js';

/** How often a Spotify chart is published. */
export type ChartPeriod = 'daily' | 'weekly';

/** Which chart and which day a Spotify Charts file holds, as its name says. */
export interface ChartsFileIdentity {
  /** The name as given (no folder). */
  readonly fileName: string;
  /** `global`, or a country's ISO 3166-1 alpha-2 code in lowercase (`br`, `us`). */
  readonly region: string;
  readonly period: ChartPeriod;
  /** The chart id in the lake (`chart=` partition): `<region>-<period>`, e.g. `global-daily`, `br-weekly`. */
  readonly chartId: string;
  /** The chart's day: a daily chart's day, or the Thursday a weekly chart's week ends on. */
  readonly chartDate: string;
  /** Whether the name said `latest`, so that the day came from the caller. */
  readonly latest: boolean;
  /**
   * The name the file goes into the inbox under: its own, or for a `latest` file the dated name of
   * the day it was given (`regional-global-daily-latest.csv` → `regional-global-daily-2024-05-01.csv`),
   * so that the inbox only ever holds names that carry their day.
   */
  readonly inboxFileName: string;
}

/** The names Spotify Charts downloads have, as an error message states them. */
export const chartsFileNamePattern =
  'regional-<global|country code>-<daily|weekly>-<YYYY-MM-DD|latest>.csv (e.g. regional-global-daily-2024-05-01.csv)';

// charts.spotify.com: regional-global-daily-2024-05-01.csv, regional-br-weekly-2024-04-25.csv,
// regional-global-daily-latest.csv. spotifycharts.com (the older site) named daily files the same
// way and weekly files by their week: regional-global-weekly-2020-01-03--2020-01-10.csv.
const namePattern =
  /^regional-(global|[a-z]{2})-(daily|weekly)-(latest|\d{4}-\d{2}-\d{2}|(\d{4}-\d{2}-\d{2})--(\d{4}-\d{2}-\d{2}))\.csv$/;

const msPerDay = 86_400_000;
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * msPerDay).toISOString().slice(0, 10);

/** The dated name of a chart's file, as charts.spotify.com names its downloads. */
export const datedChartsFileName = (region: string, period: ChartPeriod, chartDate: string): string =>
  `regional-${region}-${period}-${chartDate}.csv`;

/**
 * Reads the chart and the day out of a Spotify Charts file name.
 *
 * - `regional-<region>-<daily|weekly>-<YYYY-MM-DD>.csv`: that chart, that day (a weekly chart is
 *   dated by charts.spotify.com with the Thursday its week ends on).
 * - `regional-<region>-weekly-<Friday>--<next Friday>.csv` (the older spotifycharts.com weekly
 *   files): the week runs from the first Friday up to the next, excluded, so its day is the
 *   Thursday before the second date, which is the day charts.spotify.com gives the same week.
 * - `regional-<region>-<daily|weekly>-latest.csv`: the day must be given as `latestDate`.
 *
 * @throws {InvalidRecordError} naming the file, if the name is none of these, its date is not a
 *   calendar day, or it is a `latest` file and no `latestDate` was given.
 */
export const parseChartsFileName = (
  fileName: string,
  options: { readonly latestDate?: string } = {},
): ChartsFileIdentity => {
  const match = namePattern.exec(fileName);
  if (!match) {
    throw new InvalidRecordError(
      `"${fileName}" is not named as a Spotify Charts file: expected ${chartsFileNamePattern}`,
    );
  }
  const [, region, period, when, weekFrom, weekTo] = match as unknown as [
    string,
    string,
    ChartPeriod,
    string,
    string | undefined,
    string | undefined,
  ];
  const calendarDay = (date: string) => {
    if (!isoDate.safeParse(date).success) {
      throw new InvalidRecordError(`"${fileName}" names ${date}, which is not a calendar day`);
    }
    return date;
  };
  const identity = (chartDate: string, latest: boolean): ChartsFileIdentity => ({
    fileName,
    region,
    period,
    chartId: `${region}-${period}`,
    chartDate,
    latest,
    inboxFileName: latest ? datedChartsFileName(region, period, chartDate) : fileName,
  });

  if (when === 'latest') {
    if (options.latestDate === undefined) {
      throw new InvalidRecordError(
        `"${fileName}" is the latest chart and its name has no day: the day it was downloaded for must be given with it`,
      );
    }
    return identity(calendarDay(options.latestDate), true);
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: namePattern captures weekFrom and weekTo in the same alternative (`<date>--<date>`), so both are set or neither, and either test alone decides
  if (weekFrom !== undefined && weekTo !== undefined) {
    if (period !== 'weekly' || addDays(calendarDay(weekFrom), 7) !== calendarDay(weekTo)) {
      throw new InvalidRecordError(
        `"${fileName}" names the range ${weekFrom}--${weekTo}, which is not a weekly chart's week (7 days)`,
      );
    }
    return identity(addDays(weekTo, -1), false);
  }
  return identity(calendarDay(when), false);
};
