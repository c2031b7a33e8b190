import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { RunRecords, type RunRecord } from '../../../shared/lake/run-records.js';
import type { ObjectInfo, ObjectStore } from '../../../shared/ports/object-store.js';

/** A run record of a day and chart, its load made at `loadedAt` (load ids start with their time). */
const runRecordFactory = (
  chartId: string,
  chartDate: string,
  loadedAt: string,
  overrides: Partial<RunRecord> = {},
): RunRecord => {
  const stamp = loadedAt.replace(/[-:.]/g, '');
  return {
    runId: `${stamp}-run0${chartId.length}`,
    loadId: `${stamp}-load${chartId.length}`,
    chartId,
    chartDate,
    status: 'succeeded',
    rows: { chart_songs: 50, song_attributes: 50 },
    checks: [{ name: 'stage_rows_match_manifest', passed: true }],
    timings: { loadMs: 1200, checksMs: 80, dbtMs: 10_400 },
    updatedAt: loadedAt,
    ...overrides,
  };
};

/** The store, with every prefix it was asked to list written down. */
class ListingSpy implements ObjectStore {
  readonly listed: string[] = [];
  constructor(private readonly inner: ObjectStore) {}
  put: ObjectStore['put'] = (...args) => this.inner.put(...args);
  createIfAbsent: ObjectStore['createIfAbsent'] = (...args) => this.inner.createIfAbsent(...args);
  get: ObjectStore['get'] = (key) => this.inner.get(key);
  getWithEtag: ObjectStore['getWithEtag'] = (key) => this.inner.getWithEtag(key);
  checksum: ObjectStore['checksum'] = (key) => this.inner.checksum(key);
  replaceIfMatch: ObjectStore['replaceIfMatch'] = (...args) => this.inner.replaceIfMatch(...args);
  deleteIfMatch: ObjectStore['deleteIfMatch'] = (...args) => this.inner.deleteIfMatch(...args);
  delete: ObjectStore['delete'] = (key) => this.inner.delete(key);
  touch: ObjectStore['touch'] = (key) => this.inner.touch(key);
  list(prefix: string): Promise<ObjectInfo[]> {
    this.listed.push(prefix);
    return this.inner.list(prefix);
  }
}

describe('Function: RunRecords.latest', () => {
  let root: string;
  let store: ListingSpy;
  let records: RunRecords;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-run-records-'));
    store = new ListingSpy(new FsObjectStore({ root }));
    records = new RunRecords(store);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const write = async (...all: RunRecord[]) => {
    for (const record of all) await records.write(record);
  };
  const days = (found: RunRecord[]) =>
    found.map((r) => `${r.chartId} ${r.chartDate} ${r.loadId.slice(0, 13)}`);

  it('returns the newest days first and, within a day, the newest load first, reading no more than asked', async () => {
    await write(
      runRecordFactory('global', '2026-11-20', '2026-11-20T06:00:00.000Z'),
      runRecordFactory('br', '2026-11-20', '2026-11-20T06:05:00.000Z'),
      runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z', { status: 'transform_failed' }),
      // A replay of the 20th made later than the 21st's run: still listed under its day.
      runRecordFactory('us', '2026-11-20', '2026-11-21T09:00:00.000Z'),
      runRecordFactory('global', '2026-10-02', '2026-10-02T06:00:00.000Z'),
    );

    const latest = await records.latest({ limit: 3, today: '2026-11-22' });

    expect(days(latest)).toEqual([
      'global 2026-11-21 20261121T0600',
      'us 2026-11-20 20261121T0900',
      'br 2026-11-20 20261120T0605',
    ]);
    expect(latest[0]!.status).toBe('transform_failed');
    // Found in the current month: nothing older was listed.
    expect(store.listed).toEqual(['control/runs/date=2026-11-']);
  });

  it('walks back month by month, across a year, until it has enough', async () => {
    await write(
      runRecordFactory('global', '2026-01-03', '2026-01-03T06:00:00.000Z'),
      runRecordFactory('global', '2025-12-30', '2025-12-30T06:00:00.000Z'),
      runRecordFactory('global', '2025-12-31', '2025-12-31T06:00:00.000Z'),
    );

    const latest = await records.latest({ limit: 2, today: '2026-01-10' });

    expect(days(latest)).toEqual(['global 2026-01-03 20260103T0600', 'global 2025-12-31 20251231T0600']);
    expect(store.listed).toEqual(['control/runs/date=2026-01-', 'control/runs/date=2025-12-']);
  });

  it('lists the older partitions at once after the recent months, and finds everything there is', async () => {
    await write(
      runRecordFactory('global', '2024-03-01', '2024-03-01T06:00:00.000Z'),
      runRecordFactory('br', '2025-07-14', '2025-07-14T06:00:00.000Z'),
      runRecordFactory('global', '2026-11-01', '2026-11-01T06:00:00.000Z'),
    );

    const latest = await records.latest({ limit: 10, today: '2026-11-22' });

    expect(days(latest)).toEqual([
      'global 2026-11-01 20261101T0600',
      'br 2025-07-14 20250714T0600',
      'global 2024-03-01 20240301T0600',
    ]);
    expect(store.listed).toEqual([
      'control/runs/date=2026-11-',
      'control/runs/date=2026-10-',
      'control/runs/date=2026-09-',
      'control/runs/',
    ]);
  });

  it('keeps to one chart, or one day, or both', async () => {
    await write(
      runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z'),
      runRecordFactory('br', '2026-11-21', '2026-11-21T06:01:00.000Z'),
      runRecordFactory('br', '2026-11-20', '2026-11-20T06:01:00.000Z'),
      runRecordFactory('br', '2026-11-20', '2026-11-20T08:00:00.000Z', { status: 'checks_failed' }),
    );

    expect(days(await records.latest({ limit: 10, chartId: 'br', today: '2026-11-22' }))).toEqual([
      'br 2026-11-21 20261121T0601',
      'br 2026-11-20 20261120T0800',
      'br 2026-11-20 20261120T0601',
    ]);
    store.listed.length = 0;
    expect(days(await records.latest({ limit: 10, chartDate: '2026-11-21', today: '2026-11-22' }))).toEqual([
      'br 2026-11-21 20261121T0601',
      'global 2026-11-21 20261121T0600',
    ]);
    expect(store.listed).toEqual(['control/runs/date=2026-11-21/']);
    store.listed.length = 0;
    const one = await records.latest({
      limit: 1,
      chartId: 'br',
      chartDate: '2026-11-20',
      today: '2026-11-22',
    });
    expect(one.map((r) => r.status)).toEqual(['checks_failed']);
    expect(store.listed).toEqual(['control/runs/date=2026-11-20/chart=br/']);
  });

  it('returns nothing from an empty lake, and ignores objects that are not run records', async () => {
    expect(await records.latest({ limit: 10, today: '2026-11-22' })).toEqual([]);
    await store.put('control/runs/date=2026-11-21/notes.txt', 'not a record');
    await write(runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z'));
    expect(days(await records.latest({ limit: 10, today: '2026-11-22' }))).toEqual([
      'global 2026-11-21 20261121T0600',
    ]);
  });

  it('names the object when a record does not parse', async () => {
    await store.put(
      'control/runs/date=2026-11-21/chart=global/run=20261121T060000000Z-abcd/load=20261121T060000000Z-abcd.json',
      JSON.stringify({ chartId: 'global' }),
    );
    await expect(records.latest({ limit: 1, today: '2026-11-22' })).rejects.toThrow(
      /control\/runs\/date=2026-11-21\/chart=global\/.*load=20261121T060000000Z-abcd\.json: .*runId/,
    );
  });

  it('refuses a malformed query, naming the field', async () => {
    await expect(records.latest({ limit: 10, today: '22/11/2026' })).rejects.toThrow(InvalidRecordError);
    await expect(records.latest({ limit: 10, today: '22/11/2026' })).rejects.toThrow(/today/);
  });
});
