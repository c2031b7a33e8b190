import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../../shared/errors.js';
import { chartId } from '../../../../shared/records/messages.js';
import {
  datedChartsFileName,
  parseChartsFileName,
} from '../../../../services/chart-fetch/sources/spotify-charts-csv-file-name.js';

describe('Function: parseChartsFileName', () => {
  it.each([
    ['regional-global-daily-2024-05-01.csv', 'global', 'daily', 'global-daily', '2024-05-01'],
    ['regional-br-weekly-2024-04-25.csv', 'br', 'weekly', 'br-weekly', '2024-04-25'],
    ['regional-us-daily-2019-01-01.csv', 'us', 'daily', 'us-daily', '2019-01-01'],
  ])('reads the chart and the day of %s', (name, region, period, chart, date) => {
    const identity = parseChartsFileName(name);

    expect(identity).toEqual({
      fileName: name,
      region,
      period,
      chartId: chart,
      chartDate: date,
      latest: false,
      inboxFileName: name,
    });
    expect(chartId.safeParse(identity.chartId).success).toBe(true);
  });

  it('dates an older weekly file (Friday--next Friday) by the Thursday its week ends on', () => {
    const identity = parseChartsFileName('regional-global-weekly-2020-01-03--2020-01-10.csv');

    expect(identity).toMatchObject({ chartId: 'global-weekly', chartDate: '2020-01-09', latest: false });
    // The inbox keeps the name as downloaded: it says its week.
    expect(identity.inboxFileName).toBe('regional-global-weekly-2020-01-03--2020-01-10.csv');
  });

  it('gives a latest file the day it is given, and the dated name it goes into the inbox under', () => {
    const identity = parseChartsFileName('regional-global-daily-latest.csv', { latestDate: '2024-05-01' });

    expect(identity).toMatchObject({ chartId: 'global-daily', chartDate: '2024-05-01', latest: true });
    expect(identity.inboxFileName).toBe('regional-global-daily-2024-05-01.csv');
    expect(parseChartsFileName(identity.inboxFileName)).toMatchObject({
      chartId: 'global-daily',
      chartDate: '2024-05-01',
    });
  });

  it('keeps a dated file on its own day even when a latest day is given', () => {
    expect(
      parseChartsFileName('regional-br-weekly-2024-04-25.csv', { latestDate: '2024-05-01' }).chartDate,
    ).toBe('2024-04-25');
  });

  it('refuses a latest file without a day', () => {
    expect(() => parseChartsFileName('regional-global-weekly-latest.csv')).toThrow(
      /"regional-global-weekly-latest\.csv" is the latest chart and its name has no day/,
    );
  });

  it.each([
    'charts.csv',
    'regional-global-daily-2024-05-01.CSV',
    'regional-GLOBAL-daily-2024-05-01.csv',
    'regional-usa-daily-2024-05-01.csv',
    'regional-global-monthly-2024-05-01.csv',
    'viral-global-daily-2024-05-01.csv',
    'regional-global-daily-2024-05-01 (1).csv',
    'regional-global-daily-20240501.csv',
    'some/folder/regional-global-daily-2024-05-01.csv',
  ])('refuses %s, naming it and the expected pattern', (name) => {
    let error: unknown;
    try {
      parseChartsFileName(name);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect((error as Error).message).toContain(`"${name}" is not named as a Spotify Charts file`);
    expect((error as Error).message).toContain('regional-<global|country code>-<daily|weekly>');
  });

  it('refuses a date that is not a calendar day, in the name or given', () => {
    expect(() => parseChartsFileName('regional-global-daily-2024-02-30.csv')).toThrow(
      /names 2024-02-30, which is not a calendar day/,
    );
    expect(() =>
      parseChartsFileName('regional-global-daily-latest.csv', { latestDate: '2024-13-01' }),
    ).toThrow(/2024-13-01, which is not a calendar day/);
  });

  it('refuses a range that is not a week, or on a daily chart', () => {
    expect(() => parseChartsFileName('regional-global-weekly-2020-01-03--2020-01-11.csv')).toThrow(
      /range 2020-01-03--2020-01-11, which is not a weekly chart's week/,
    );
    expect(() => parseChartsFileName('regional-global-daily-2020-01-03--2020-01-10.csv')).toThrow(
      /which is not a weekly chart's week/,
    );
  });
});

describe('Function: datedChartsFileName', () => {
  it('names a chart day as charts.spotify.com names its downloads', () => {
    expect(datedChartsFileName('br', 'weekly', '2024-04-25')).toBe('regional-br-weekly-2024-04-25.csv');
  });
});
