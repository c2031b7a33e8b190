import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { MissingBacklog, retryableFrom, type BacklogEntry } from '../../../shared/lake/backlog.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { noteContentTypes, vanishing } from './store-doubles.js';
import { kindsOf, leadingKind } from '../../../shared/records/missing-reasons.js';

const entry = (trackId: string, chartDate = '2026-03-01', chartId = 'global'): BacklogEntry => ({
  trackId,
  chartDate,
  chartId,
  runId: 'run-000001',
  recordedAt: '2026-03-01T06:00:00.000Z',
  gaps: [{ group: 'popularity', kind: 'provider_error', reason: 'provider_error: no popularity: HTTP 500' }],
});

describe('Class: MissingBacklog', () => {
  let store: FsObjectStore;
  let backlog: MissingBacklog;

  beforeEach(() => {
    store = new FsObjectStore({ root: mkdtempSync(path.join(tmpdir(), 'chartflow-backlog-')) });
    backlog = new MissingBacklog(store);
  });

  it('keeps one object per track, day and chart, under control/backlog/', async () => {
    await backlog.record([
      entry('t1'),
      entry('t2'),
      entry('t1', '2026-03-02'),
      entry('t1', '2026-03-01', 'viral'),
    ]);

    expect((await store.list('control/backlog/')).map((o) => o.key).sort()).toEqual([
      'control/backlog/date=2026-03-01/chart=global/track=t1.json',
      'control/backlog/date=2026-03-01/chart=global/track=t2.json',
      'control/backlog/date=2026-03-01/chart=viral/track=t1.json',
      'control/backlog/date=2026-03-02/chart=global/track=t1.json',
    ]);
    expect(
      (await backlog.list({ chartDate: '2026-03-01', chartId: 'global' })).map((e) => e.trackId),
    ).toEqual(['t1', 't2']);
    expect((await backlog.list({ chartId: 'viral' })).map((e) => e.chartDate)).toEqual(['2026-03-01']);
  });

  it('removes only the named tracks of that day and chart once a run has them', async () => {
    await backlog.record([entry('t1'), entry('t2'), entry('t1', '2026-03-02')]);

    expect(await backlog.resolve({ chartDate: '2026-03-01', chartId: 'global' }, ['t1', 't3'])).toBe(1);

    expect((await backlog.list()).map((e) => `${e.chartDate} ${e.trackId}`).sort()).toEqual([
      '2026-03-01 t2',
      '2026-03-02 t1',
    ]);
  });

  it('writes each entry as JSON', async () => {
    const { store: noting, contentTypes } = noteContentTypes(store);
    await new MissingBacklog(noting).record([entry('t1')]);

    expect([...contentTypes]).toEqual([
      [lakeKeys.backlogEntry('2026-03-01', 'global', 't1'), 'application/json'],
    ]);
  });

  it('leaves out an entry resolved while it lists them', async () => {
    await backlog.record([entry('t1'), entry('t2')]);
    const resolvedKey = lakeKeys.backlogEntry('2026-03-01', 'global', 't1');
    const racing = new MissingBacklog(vanishing(store, (key) => key === resolvedKey));

    expect((await racing.list()).map((e) => e.trackId)).toEqual(['t2']);
    expect((await racing.list({ chartId: 'global' })).map((e) => e.trackId)).toEqual(['t2']);
  });

  it('refuses an entry that is not one, naming its key', async () => {
    const key = lakeKeys.backlogEntry('2026-03-01', 'global', 't1');
    await store.put(key, JSON.stringify({ ...entry('t1'), gaps: [] }));

    await expect(backlog.list()).rejects.toThrow(InvalidRecordError);
    await expect(backlog.list()).rejects.toThrow(key);
  });

  it('may be asked again at once, or when its last quota ends', () => {
    const quota = (until: string) => ({
      group: 'features' as const,
      kind: 'quota' as const,
      reason: 'quota: x',
      until,
    });
    expect(retryableFrom(entry('t1'))).toBeUndefined();
    expect(retryableFrom({ ...entry('t1'), gaps: [quota('2026-03-02T00:00:00.000Z')] })).toBe(
      '2026-03-02T00:00:00.000Z',
    );
    expect(
      retryableFrom({
        ...entry('t1'),
        gaps: [
          quota('2026-03-01T12:00:00.000Z'),
          quota('2026-03-03T00:00:00.000Z'),
          quota('2026-03-02T00:00:00.000Z'),
        ],
      }),
    ).toBe('2026-03-03T00:00:00.000Z');
    expect(
      retryableFrom({
        ...entry('t1'),
        gaps: [quota('2026-03-02T00:00:00.000Z'), quota('2026-03-01T12:00:00.000Z')],
      }),
    ).toBe('2026-03-02T00:00:00.000Z');
    expect(
      retryableFrom({ ...entry('t1'), gaps: [quota('2026-03-02T00:00:00.000Z'), ...entry('t1').gaps] }),
    ).toBeUndefined();
  });
});

describe('Function: kindsOf, leadingKind', () => {
  it('reads the kinds a reason is led by, each once, and not a kind word inside a detail', () => {
    expect(
      kindsOf('quota: no popularity: x; not_found: no audio features: y, then quota: z; quota: again'),
    ).toEqual(['quota', 'not_found']);
    expect(kindsOf('no popularity')).toEqual([]);
    expect(kindsOf(null)).toEqual([]);
  });

  it('takes the most actionable kind: an error, then a quota, then an absence', () => {
    expect(leadingKind(['not_found', 'quota', 'provider_error'])).toBe('provider_error');
    expect(leadingKind(['not_found', 'quota'])).toBe('quota');
    expect(leadingKind(['not_found'])).toBe('not_found');
    expect(leadingKind([])).toBeUndefined();
  });
});
