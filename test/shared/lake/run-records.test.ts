import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { RunRecords, type RunRecord } from '../../../shared/lake/run-records.js';
import type { ObjectInfo, ObjectStore } from '../../../shared/ports/object-store.js';
import { noteContentTypes, vanishing } from './store-doubles.js';

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

  it('writes a record as one line of JSON, which Athena reads one record per line, and reads it back', async () => {
    const record = runRecordFactory('global', '2026-11-14', '2026-11-14T06:30:00.000Z', {
      reason: 'a reason\nover two lines',
    });
    await write(record);
    const key = `control/runs/date=2026-11-14/chart=global/run=${record.runId}/load=${record.loadId}.json`;
    const body = (await store.get(key))!.toString('utf8');
    expect(body).not.toContain('\n');
    expect(JSON.parse(body)).toMatchObject({ runId: record.runId, reason: 'a reason\nover two lines' });
    expect(await records.read(record, record.runId, record.loadId)).toMatchObject(record);
  });

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
    await expect(records.latest({ limit: 10, today: '22/11/2026' })).rejects.toThrow(
      /^run records query: .*today/,
    );
  });

  it('lists nothing for a limit of 0', async () => {
    await write(runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z'));
    expect(await records.latest({ limit: 0, today: '2026-11-22' })).toEqual([]);
    expect(await records.latest({ limit: 0, chartDate: '2026-11-21', today: '2026-11-22' })).toEqual([]);
    expect(store.listed).toEqual([]);
  });

  it('reads every record of a month that holds more than it reads at once, each once', async () => {
    const daysOfNovember = Array.from({ length: 20 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
    await write(...daysOfNovember.map((d) => runRecordFactory('global', d, `${d}T06:00:00.000Z`)));

    const latest = await records.latest({ limit: 50, today: '2026-11-22' });

    expect(latest.map((r) => r.chartDate)).toEqual(daysOfNovember.toReversed());
  });

  it('ignores objects that only look like run records: a copy beside one, or one nested deeper', async () => {
    const record = runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z');
    await write(record);
    const key = `control/runs/date=2026-11-21/chart=global/run=${record.runId}/load=${record.loadId}.json`;
    const body = (await store.get(key))!;
    await store.put(`${key}.bak`, body);
    await store.put(`control/runs/date=2026-11-20/old/${key}`, body);

    expect(days(await records.latest({ limit: 10, today: '2026-11-22' }))).toEqual([
      'global 2026-11-21 20261121T0600',
    ]);
  });

  it('names the partitions of years before 1000 with four digits, as their keys have them', async () => {
    await write(runRecordFactory('global', '0999-12-20', '0999-12-20T06:00:00.000Z'));

    const latest = await records.latest({ limit: 1, today: '1000-01-05' });

    expect(days(latest)).toEqual(['global 0999-12-20 09991220T0600']);
    expect(store.listed).toEqual(['control/runs/date=1000-01-', 'control/runs/date=0999-12-']);
  });

  it('refuses a record listed but gone when it is read, naming it', async () => {
    const record = runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z');
    await write(record);
    const gone = new RunRecords(vanishing(store, (key) => key.startsWith('control/runs/')));
    await expect(gone.latest({ limit: 1, today: '2026-11-22' })).rejects.toThrow(
      new InvalidRecordError(
        `control/runs/date=2026-11-21/chart=global/run=${record.runId}/load=${record.loadId}.json: listed, but could not be read`,
      ),
    );
  });
});

describe('Class: RunRecords, one day and chart', () => {
  let root: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-run-records-'));
    store = new FsObjectStore({ root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const day = { chartId: 'global', chartDate: '2026-11-21' };
  const keyOf = (r: RunRecord) =>
    `control/runs/date=${r.chartDate}/chart=${r.chartId}/run=${r.runId}/load=${r.loadId}.json`;

  it('writes each record as JSON, and says so in its content type', async () => {
    const { store: noting, contentTypes } = noteContentTypes(store);
    const record = runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z');
    await new RunRecords(noting).write(record);
    expect(contentTypes.get(keyOf(record))).toBe('application/json');
    expect(JSON.parse((await store.get(keyOf(record)))!.toString('utf8'))).toMatchObject({
      loadId: record.loadId,
    });
  });

  it('reads a record written before it kept checks, or a batch its failures, as having none', async () => {
    const { checks: _checks, ...older } = runRecordFactory(
      'global',
      '2026-11-21',
      '2026-11-21T06:00:00.000Z',
    );
    await store.put(
      keyOf(older as RunRecord),
      JSON.stringify({ ...older, batch: { batchId: older.loadId, loads: 2 } }),
    );

    const read = await new RunRecords(store).read(day, older.runId, older.loadId);

    expect(read?.checks).toEqual([]);
    expect(read?.batch).toEqual({ batchId: older.loadId, loads: 2, failedLoads: 0, failed: [] });
  });

  it("updates more loads than it updates at once, each once, in the loads' order", async () => {
    const loads = Array.from({ length: 20 }, (_, i) => {
      const { runId, loadId, chartId, chartDate } = runRecordFactory(
        'global',
        '2026-11-21',
        `2026-11-21T06:${String(59 - i).padStart(2, '0')}:00.000Z`,
      );
      return { runId, loadId, chartId, chartDate };
    });
    const records = new RunRecords(store);
    await records.write({
      ...runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z'),
      ...loads[3]!,
      status: 'loaded',
    });
    const seen: (string | undefined)[] = [];

    const updated = await records.update(loads, (previous, load) => {
      seen.push(previous?.status);
      return {
        ...runRecordFactory('global', '2026-11-21', '2026-11-21T07:00:00.000Z'),
        ...load,
        status: 'transforming',
      };
    });

    expect(updated.map((r) => r.loadId)).toEqual(loads.map((l) => l.loadId));
    expect(seen.filter((s) => s === 'loaded')).toHaveLength(1);
    expect(seen).toHaveLength(20);
    expect((await records.list(day)).map((r) => r.status)).toEqual(Array(20).fill('transforming'));
  });

  it("lists a day's records oldest load first, whatever run each load is of", async () => {
    // A load retried in an earlier run, after a later run's load: key order is run order.
    const earlierRun = runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z', {
      loadId: '20261121T100000000Z-load',
    });
    const laterRun = runRecordFactory('global', '2026-11-21', '2026-11-21T09:00:00.000Z');
    const records = new RunRecords(store);
    await records.write(earlierRun);
    await records.write(laterRun);

    expect((await records.list(day)).map((r) => r.loadId)).toEqual([laterRun.loadId, earlierRun.loadId]);
  });

  it('refuses a record listed but gone when it is read, naming it and that nothing was there', async () => {
    const record = runRecordFactory('global', '2026-11-21', '2026-11-21T06:00:00.000Z');
    await new RunRecords(store).write(record);
    await expect(
      new RunRecords(vanishing(store, (key) => key.startsWith('control/runs/'))).list(day),
    ).rejects.toThrow(new RegExp(`^run record ${keyOf(record).replace(/[.]/g, '\\.')}: .*received null`));
  });
});
