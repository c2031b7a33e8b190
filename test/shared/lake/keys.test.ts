import { describe, expect, it } from 'vitest';
import {
  batchOfInboxKey,
  lakeKeys,
  parseCopyManifestKey,
  parseRawKey,
  partName,
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
