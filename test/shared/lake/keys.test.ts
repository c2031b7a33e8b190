import { describe, expect, it } from 'vitest';
import {
  batchOfInboxKey,
  lakeKeys,
  legacyLakeKeys,
  parseCopyManifestKey,
  parseRawKey,
  parseTableKey,
  partName,
  tablePrefix,
} from '../../../shared/lake/keys.js';

describe('Function: batchOfInboxKey', () => {
  it('reads the batch of a file in a batch folder, under the inbox or at the top of a key', () => {
    expect(batchOfInboxKey(lakeKeys.inboxBatchChart('b-7', 'global.csv'))).toBe('b-7');
    expect(batchOfInboxKey('batch=b-7/global.csv')).toBe('b-7');
  });

  it('reads no batch for a file dropped on its own, or deeper than right under a batch folder', () => {
    expect(batchOfInboxKey(lakeKeys.inboxChart('global.csv'))).toBeUndefined();
    expect(batchOfInboxKey('inbox/charts/batch=b-7/more/global.csv')).toBeUndefined();
    expect(batchOfInboxKey('inbox/charts/mybatch=b-7/global.csv')).toBeUndefined();
  });
});

describe('Function: partName', () => {
  it('names the same ids the same in any order and with repeats, and another run another part', () => {
    const part = partName('run-1', ['t2', 't1', 't3']);
    expect(part).toMatch(/^part-[0-9a-f]{16}$/);
    expect(partName('run-1', ['t3', 't1', 't2', 't1'])).toBe(part);
    expect(partName('run-2', ['t1', 't2', 't3'])).not.toBe(part);
    expect(partName('run-1', ['t1', 't2'])).not.toBe(part);
  });
});

describe('Function: parseRawKey', () => {
  it('reads the dataset, day, chart and file of a raw key', () => {
    expect(parseRawKey(lakeKeys.manifest('2026-03-01', 'global'))).toEqual({
      dataset: 'chart_songs',
      date: '2026-03-01',
      chart: 'global',
      file: 'manifest.json',
    });
  });

  it('reads nothing of a key outside raw/, or of a day that is no date', () => {
    expect(parseRawKey('control/backlog/date=2026-03-01/chart=global/track=t1.json')).toBeUndefined();
    expect(parseRawKey('raw/chart_songs/date=2026-02-30/chart=global/manifest.json')).toBeUndefined();
  });
});

describe('Object: lakeKeys, the normalized files', () => {
  it('puts each dataset in a folder of its own under tables/, holding its CSVs only', () => {
    const part = 'part-0123456789abcdef';
    expect(lakeKeys.chartCsv('2026-03-01', 'global')).toBe(
      'tables/chart_songs/date=2026-03-01/chart=global/chart_songs.csv',
    );
    expect(lakeKeys.attributesCsv('2026-03-01', 'global', part)).toBe(
      `tables/song_attributes/date=2026-03-01/chart=global/${part}.csv`,
    );
    expect(lakeKeys.artistsCsv('2026-03-01', 'global', part)).toBe(
      `tables/song_artists/date=2026-03-01/chart=global/${part}.csv`,
    );
    expect(tablePrefix('song_artists', '2026-03-01')).toBe('tables/song_artists/date=2026-03-01/');
    expect(tablePrefix('song_artists', '2026-03-01', 'global')).toBe(
      'tables/song_artists/date=2026-03-01/chart=global/',
    );
  });

  it('keeps what was received, the manifest and the markers under raw/, where their ObjectCreated starts a load', () => {
    const part = 'part-0123456789abcdef';
    for (const key of [
      lakeKeys.chartRaw('2026-03-01', 'global'),
      lakeKeys.chartSourceFile('2026-03-01', 'global'),
      lakeKeys.manifest('2026-03-01', 'global'),
      lakeKeys.attributesRaw('2026-03-01', 'global', part),
      lakeKeys.partMarker('2026-03-01', 'global', 'run-1', part, '0123456789abcdef', '3'),
    ])
      expect(key.startsWith('raw/'), key).toBe(true);
  });

  it('keeps the keys of the layout before, beside the raw answers, to read legacy days', () => {
    const part = 'part-0123456789abcdef';
    expect(legacyLakeKeys.chartCsv('2026-03-01', 'global')).toBe(
      'raw/chart_songs/date=2026-03-01/chart=global/chart_songs.csv',
    );
    expect(legacyLakeKeys.attributesCsv('2026-03-01', 'global', part)).toBe(
      `raw/song_attributes/date=2026-03-01/chart=global/${part}.song_attributes.csv`,
    );
    expect(legacyLakeKeys.artistsCsv('2026-03-01', 'global', part)).toBe(
      `raw/song_attributes/date=2026-03-01/chart=global/${part}.song_artists.csv`,
    );
  });
});

describe('Function: parseTableKey', () => {
  it('reads the table, day, chart and file of a key under tables/', () => {
    expect(parseTableKey(lakeKeys.artistsCsv('2026-03-01', 'global', 'part-1'))).toEqual({
      table: 'song_artists',
      date: '2026-03-01',
      chart: 'global',
      file: 'part-1.csv',
    });
  });

  it('reads nothing of a raw key, of another table, or of a day that is no date', () => {
    expect(parseTableKey(legacyLakeKeys.chartCsv('2026-03-01', 'global'))).toBeUndefined();
    expect(parseTableKey('tables/users/date=2026-03-01/chart=global/a.csv')).toBeUndefined();
    expect(parseTableKey('tables/chart_songs/date=2026-02-30/chart=global/chart_songs.csv')).toBeUndefined();
  });
});

describe('Function: parseCopyManifestKey', () => {
  it('reads the day, chart, run and table of a COPY manifest key', () => {
    expect(
      parseCopyManifestKey(lakeKeys.copyManifest('2026-03-01', 'global', 'run-000001', 'stg_chart_songs')),
    ).toEqual({ date: '2026-03-01', chart: 'global', runId: 'run-000001', table: 'stg_chart_songs' });
  });

  it('reads nothing of another key, or of a day that is no date', () => {
    expect(parseCopyManifestKey(lakeKeys.manifest('2026-03-01', 'global'))).toBeUndefined();
    expect(
      parseCopyManifestKey(lakeKeys.copyManifest('2026-02-30', 'global', 'run-000001', 'stg_chart_songs')),
    ).toBeUndefined();
  });
});
