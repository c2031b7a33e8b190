import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { RetryableError, TransformBusyError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { RunRecords, type CheckResult, type RunRecord } from '../../../shared/lake/run-records.js';
import { TransformBatches, type BatchLoad } from '../../../shared/lake/transform-batches.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import type { Clock } from '../../../shared/ports/clock.js';
import {
  BatchProtocol,
  refusalReason,
  type BatchEnded,
  type BatchWork,
  type BuildOutcome,
} from '../../../shared/transform/batch-protocol.js';

/** A clock the test moves by hand. */
const handClock = (start: string) => {
  let now = Date.parse(start);
  const clock: Clock & { advance: (ms: number) => void } = {
    now: () => new Date(now),
    sleep: async () => undefined,
    advance: (ms) => void (now += ms),
  };
  return clock;
};

const pad = (n: number) => String(n).padStart(2, '0');
/** The load of one day of November 2026 of a chart. */
const dayLoad = (n: number, chartId = 'global'): BatchLoad => ({
  runId: `run-202611${pad(n)}-${chartId}`,
  loadId: `load-202611${pad(n)}-${chartId}`,
  chartId,
  chartDate: `2026-11-${pad(n)}`,
});
const passed = (name: string): CheckResult => ({ name, passed: true, detail: '' });
const failed = (name: string): CheckResult => ({ name, passed: false, detail: 'broken' });
const loaded = { rows: { chart_songs: 200, chart_artists: 150 }, loadMs: 40 };
const backfill = 'backfill-20261120';

/** What the transform was asked to do, and what the protocol told its observer. */
interface Seen {
  built: string[];
  cleaned: string[][];
  ended: BatchEnded[];
}

describe('Class: BatchProtocol, a batch from its load to its outcome', () => {
  let home: string;
  let store: FsObjectStore;
  let clock: ReturnType<typeof handClock>;
  let seen: Seen;
  let records: RunRecords;

  /** The transform's work: checks that fail for the loads named, a build that throws `buildError`. */
  const work = (
    options: { failing?: readonly string[]; buildError?: Error; checksTakeMs?: number } = {},
  ): BatchWork => ({
    check: async (loads) => {
      clock.advance(options.checksTakeMs ?? 0);
      return loads.map((l) =>
        options.failing?.includes(l.loadId) ? [passed('rows'), failed('ranks')] : [passed('rows')],
      );
    },
    cleanStage: async (loads) => void seen.cleaned.push(loads.map((l) => l.loadId)),
    build: async (batchId) => {
      if (options.buildError) throw options.buildError;
      seen.built.push(batchId);
    },
    observer: { ended: (e) => void seen.ended.push(e) },
  });
  const protocol = () => new BatchProtocol(store, clock);
  const cleanStage = async (loads: readonly BatchLoad[]) =>
    void seen.cleaned.push(loads.map((l) => l.loadId));
  const observer = () => ({ ended: (e: BatchEnded) => void seen.ended.push(e) });
  const recordOf = (load: BatchLoad) => records.read(load, load.runId, load.loadId);
  const lockHolder = async () => (await new TransformLock(store, clock).holder())?.batchId;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-protocol-life-'));
    store = new FsObjectStore({ root: home });
    clock = handClock('2026-11-20T06:00:00.000Z');
    seen = { built: [], cleaned: [], ended: [] };
    records = new RunRecords(store);
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  describe('recordLoad', () => {
    it("records the load's rows, its load time and its landing", async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded, landing: { quarantined: 2 } });
      expect(await recordOf(load)).toEqual({
        ...load,
        status: 'loaded',
        rows: { chart_songs: 200, chart_artists: 150 },
        checks: [],
        timings: { loadMs: 40 },
        landing: { quarantined: 2 },
        updatedAt: '2026-11-20T06:00:00.000Z',
      });
    });
  });

  describe('startLoad', () => {
    it("defers a backfill's load to its batch without asking for the warehouse, even while another batch holds it", async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await new TransformLock(store, clock).acquire('batch-other-0001');
      expect(await protocol().startLoad(load, backfill, work())).toEqual({
        outcome: 'deferred',
        batchId: backfill,
        loadId: load.loadId,
      });
      expect(await lockHolder()).toBe('batch-other-0001');
      expect(seen.built).toEqual([]);
    });

    it('defers a load that its batch took in while the load waited for the warehouse, and gives the warehouse back', async () => {
      const [early, late] = [dayLoad(17), dayLoad(18)];
      for (const l of [early, late]) await protocol().recordLoad({ ...l, ...loaded });
      // The batch is fixed without the late load when it first looks...
      await new TransformBatches(store).write({
        batchId: backfill,
        createdAt: clock.now().toISOString(),
        loads: [early],
      });
      // ...and fixed again with it (the load had joined in between) just as the load takes the lock.
      const racing = new (class extends FsObjectStore {
        override async createIfAbsent(key: string, body: string | Uint8Array): Promise<boolean> {
          if (key === lakeKeys.transformLock()) {
            await new TransformBatches(store).write({
              batchId: backfill,
              createdAt: clock.now().toISOString(),
              loads: [early, late],
            });
          }
          return super.createIfAbsent(key, body);
        }
      })({ root: home });
      expect(await new BatchProtocol(racing, clock).startLoad(late, backfill, work())).toEqual({
        outcome: 'deferred',
        batchId: backfill,
        loadId: late.loadId,
      });
      expect(await lockHolder()).toBeUndefined();
      expect(seen.built).toEqual([]);
      expect((await recordOf(late))?.status).toBe('loaded');
    });

    it('transforms a day once: its event delivered again after the outcome does nothing again', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded });
      expect(await protocol().startLoad(load, undefined, work())).toMatchObject({ outcome: 'transforming' });
      await protocol().finish({ batchId: load.loadId, taskId: 'task-1', succeeded: true }, cleanStage);
      expect(await protocol().startLoad(load, undefined, work())).toEqual({
        outcome: 'already_handled',
        batchId: load.loadId,
      });
      expect(seen.built).toEqual([load.loadId]);
      expect((await recordOf(load))?.status).toBe('succeeded');
      expect(await lockHolder()).toBeUndefined();
    });
  });

  describe('startRequested', () => {
    it('says a batch nothing joined is empty, and gives the warehouse back', async () => {
      expect(await protocol().startRequested(backfill, work())).toEqual({
        outcome: 'empty',
        batchId: backfill,
      });
      expect(await new TransformBatches(store).read(backfill)).toBeUndefined();
      expect(await lockHolder()).toBeUndefined();
    });

    it('takes in a load that joins just as the batch is fixed', async () => {
      const [first, late] = [dayLoad(17), dayLoad(18)];
      await protocol().recordLoad({ ...first, ...loaded }, backfill);
      let joined = false;
      const racing = new (class extends FsObjectStore {
        override async put(key: string, body: string | Uint8Array): Promise<void> {
          if (key === lakeKeys.batch(backfill) && !joined) {
            joined = true;
            // The late load looks before the batch is fixed: it sees none, and joins.
            await new BatchProtocol(store, clock).recordLoad({ ...late, ...loaded }, backfill);
          }
          return super.put(key, body);
        }
      })({ root: home });
      expect(await new BatchProtocol(racing, clock).startRequested(backfill, work())).toEqual({
        outcome: 'transforming',
        batchId: backfill,
        loads: 2,
        failedLoads: 0,
      });
      expect((await new TransformBatches(store).read(backfill))?.loads).toEqual([first, late]);
      expect((await recordOf(late))?.status).toBe('transforming');
    });

    it("records the checks' time, and that dbt is being started, before dbt starts", async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      clock.advance(1_000);
      await protocol().startRequested(backfill, work({ checksTakeMs: 250 }));
      expect(await recordOf(load)).toMatchObject({
        status: 'transforming',
        checks: [passed('rows')],
        timings: { loadMs: 40, checksMs: 250 },
        batch: { batchId: backfill, loads: 1, failedLoads: 0, failed: [] },
        transform: { taskId: 'starting', startedAt: '2026-11-20T06:00:01.250Z' },
      });
      expect(seen.built).toEqual([backfill]);
      expect(await lockHolder()).toBe(backfill);
    });

    it('keeps the warehouse when its request comes again while dbt runs, and gives it back once dbt has stopped', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await protocol().startRequested(backfill, work());
      expect(await protocol().startRequested(backfill, work())).toEqual({
        outcome: 'already_handled',
        batchId: backfill,
      });
      expect(await lockHolder()).toBe(backfill);
      expect(seen.built).toEqual([backfill]);

      await protocol().finish({ batchId: backfill, taskId: 'task-1', succeeded: true }, cleanStage);
      expect(await protocol().startRequested(backfill, work())).toEqual({
        outcome: 'already_handled',
        batchId: backfill,
      });
      expect(await lockHolder()).toBeUndefined();
    });

    it('keeps the warehouse when its request comes again while its clean-up is half done', async () => {
      const [first, second] = [dayLoad(17), dayLoad(18)];
      for (const l of [first, second]) await protocol().recordLoad({ ...l, ...loaded }, backfill);
      await protocol().startRequested(backfill, work());
      // The clean-up gives the first load its outcome, and fails on the second's record.
      const failing = new (class extends FsObjectStore {
        override async put(key: string, body: string | Uint8Array): Promise<void> {
          if (key === lakeKeys.runRecord(second.chartDate, second.chartId, second.runId, second.loadId)) {
            throw new Error('S3 is unavailable');
          }
          return super.put(key, body);
        }
      })({ root: home });
      await expect(
        new BatchProtocol(failing, clock).finish(
          { batchId: backfill, taskId: 'task-1', succeeded: true },
          cleanStage,
        ),
      ).rejects.toThrow('S3 is unavailable');
      await vi.waitFor(async () => expect((await recordOf(first))?.status).toBe('succeeded'));
      expect((await recordOf(second))?.status).toBe('transforming');

      expect(await protocol().startRequested(backfill, work())).toEqual({
        outcome: 'already_handled',
        batchId: backfill,
      });
      expect(await lockHolder()).toBe(backfill);
    });

    it('names the batch that holds the warehouse when it is busy', async () => {
      await protocol().recordLoad({ ...dayLoad(18), ...loaded }, backfill);
      await new TransformLock(store, clock).acquire('batch-other-0001');
      const refused = protocol().startRequested(backfill, work());
      await expect(refused).rejects.toThrow(TransformBusyError);
      await expect(refused).rejects.toThrow('another transform (batch batch-other-0001) holds the warehouse');
    });

    it('says an unknown batch held the warehouse when its holder let go just as it was refused', async () => {
      await protocol().recordLoad({ ...dayLoad(18), ...loaded }, backfill);
      await new TransformLock(store, clock).acquire('batch-other-0001');
      // The holder lets go after the lock was found held (getWithEtag), before it is read to be named (get).
      const lettingGo = new (class extends FsObjectStore {
        #versioned = false;
        override async getWithEtag(key: string) {
          this.#versioned = true;
          try {
            return await super.getWithEtag(key);
          } finally {
            this.#versioned = false;
          }
        }
        override async get(key: string): Promise<Buffer | undefined> {
          if (key === lakeKeys.transformLock() && !this.#versioned) await super.delete(key);
          return super.get(key);
        }
      })({ root: home });
      await expect(new BatchProtocol(lettingGo, clock).startRequested(backfill, work())).rejects.toThrow(
        'another transform (batch unknown) holds the warehouse',
      );
    });
  });

  describe('a batch that fails its checks', () => {
    it('fails every load, cleans the stage, and names the failed loads (the first 20 of them)', async () => {
      const loads = Array.from({ length: 21 }, (_, i) => dayLoad(i + 1));
      for (const l of loads) await protocol().recordLoad({ ...l, ...loaded }, backfill);
      const result = await protocol().startRequested(backfill, work({ failing: loads.map((l) => l.loadId) }));
      expect(result).toEqual({ outcome: 'checks_failed', batchId: backfill, loads: 21, failedLoads: 21 });
      const record = await recordOf(loads[0]!);
      expect(record?.status).toBe('checks_failed');
      expect(record?.batch?.failedLoads).toBe(21);
      expect(record?.batch?.failed).toHaveLength(20);
      expect(record?.batch?.failed[0]).toEqual({
        chartId: 'global',
        chartDate: '2026-11-01',
        checks: ['ranks'],
      });
      expect(seen.cleaned).toEqual([loads.map((l) => l.loadId)]);
      expect(seen.built).toEqual([]);
      expect(await lockHolder()).toBeUndefined();
    });

    it('needs no observer', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      const { observer: _observer, ...unobserved } = work({ failing: [load.loadId] });
      expect(await protocol().startRequested(backfill, unobserved)).toMatchObject({
        outcome: 'checks_failed',
      });
      expect((await recordOf(load))?.status).toBe('checks_failed');
    });

    it('keeps the transform a record already had: only the outcome is new', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      const transform = {
        taskId: 'task-0',
        startedAt: '2026-11-19T06:00:00.000Z',
        finishedAt: '2026-11-19T06:05:00.000Z',
      };
      await records.write({ ...(await recordOf(load))!, transform });
      await protocol().startRequested(backfill, work({ failing: [load.loadId] }));
      expect(await recordOf(load)).toMatchObject({ status: 'checks_failed', transform });
    });
  });

  describe('a batch whose dbt cannot be started', () => {
    it('fails the batch with why, cleans the stage and gives the warehouse back', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      expect(
        await protocol().startRequested(backfill, work({ buildError: new Error('no task definition') })),
      ).toEqual({ outcome: 'transform_failed', batchId: backfill, loads: 1, failedLoads: 0 });
      expect((await recordOf(load))?.transform).toEqual({
        taskId: 'not-started',
        startedAt: '2026-11-20T06:00:00.000Z',
        finishedAt: '2026-11-20T06:00:00.000Z',
        message: 'dbt could not be started: no task definition',
      });
      expect(seen.cleaned).toEqual([[load.loadId]]);
      expect(await lockHolder()).toBeUndefined();
    });
  });

  describe('finish', () => {
    const stopped = (over: Partial<BuildOutcome> = {}): BuildOutcome => ({
      batchId: backfill,
      taskId: 'task-1',
      succeeded: true,
      ...over,
    });

    it("gives every load the outcome, keeping what its record held, and times dbt from its start's record", async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded, landing: { quarantined: 2 } }, backfill);
      await protocol().startRequested(backfill, work({ checksTakeMs: 250 }));
      clock.advance(300_000);
      expect(await protocol().finish(stopped(), cleanStage, observer())).toEqual({
        batchId: backfill,
        status: 'succeeded',
        loads: 1,
      });
      expect(await recordOf(load)).toEqual({
        ...load,
        status: 'succeeded',
        rows: { chart_songs: 200, chart_artists: 150 },
        checks: [passed('rows')],
        landing: { quarantined: 2 },
        timings: { loadMs: 40, checksMs: 250, dbtMs: 300_000 },
        batch: { batchId: backfill, loads: 1, failedLoads: 0, failed: [] },
        transform: {
          taskId: 'task-1',
          startedAt: '2026-11-20T06:00:00.250Z',
          finishedAt: '2026-11-20T06:05:00.250Z',
        },
        updatedAt: '2026-11-20T06:05:00.250Z',
      });
      expect(seen.ended).toEqual([
        { batchId: backfill, status: 'succeeded', runsPerChart: { global: 1 }, dbtSeconds: 300 },
      ]);
      expect(await lockHolder()).toBeUndefined();
    });

    it("keeps dbt's own words when it failed", async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await protocol().startRequested(backfill, work());
      await protocol().finish(stopped({ succeeded: false, message: 'Database Error' }), cleanStage);
      expect(await recordOf(load)).toMatchObject({
        status: 'transform_failed',
        transform: { taskId: 'task-1', message: 'Database Error' },
      });
    });

    it("gives an outcome to loads whose run records are missing, dbt's start taken as now", async () => {
      const [first, second] = [dayLoad(17), dayLoad(18, 'us')];
      await new TransformBatches(store).write({
        batchId: backfill,
        createdAt: clock.now().toISOString(),
        loads: [first, second],
      });
      await protocol().finish(stopped({ succeeded: false }), cleanStage, observer());
      expect(await recordOf(second)).toEqual({
        ...second,
        status: 'transform_failed',
        rows: {},
        checks: [],
        timings: { dbtMs: 0 },
        batch: { batchId: backfill, loads: 2, failedLoads: 0, failed: [] },
        transform: {
          taskId: 'task-1',
          startedAt: '2026-11-20T06:00:00.000Z',
          finishedAt: '2026-11-20T06:00:00.000Z',
        },
        updatedAt: '2026-11-20T06:00:00.000Z',
      });
      expect(seen.ended).toEqual([
        { batchId: backfill, status: 'transform_failed', runsPerChart: { global: 1, us: 1 }, dbtSeconds: 0 },
      ]);
      expect(seen.cleaned).toEqual([[first.loadId, second.loadId]]);
    });

    it('gives the batch to loads whose records never had one (their checks never ran)', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await new TransformBatches(store).write({
        batchId: backfill,
        createdAt: clock.now().toISOString(),
        loads: [load],
      });
      await protocol().finish(stopped(), cleanStage);
      expect(await recordOf(load)).toMatchObject({
        status: 'succeeded',
        rows: loaded.rows,
        timings: { loadMs: 40, dbtMs: 0 },
        batch: { batchId: backfill, loads: 1, failedLoads: 0, failed: [] },
      });
    });

    describe("dbt's time", () => {
      const finishedAfter = async (outcome: BuildOutcome) => {
        await protocol().recordLoad({ ...dayLoad(18), ...loaded }, backfill);
        await protocol().startRequested(backfill, work());
        clock.advance(120_000);
        await protocol().finish(outcome, cleanStage, observer());
        return seen.ended.map((e) => e.dbtSeconds);
      };

      it("is the task's own, from its start to its stop, when the stop event says both", async () => {
        expect(
          await finishedAfter(
            stopped({ startedAt: '2026-11-20T06:00:30.000Z', stoppedAt: '2026-11-20T06:01:45.500Z' }),
          ),
        ).toEqual([75.5]);
      });

      it('is 0 for a task that stopped as it started', async () => {
        expect(
          await finishedAfter(
            stopped({ startedAt: '2026-11-20T06:00:30.000Z', stoppedAt: '2026-11-20T06:00:30.000Z' }),
          ),
        ).toEqual([0]);
      });

      it("is the run records' when the stop event says the task stopped before it started", async () => {
        expect(
          await finishedAfter(
            stopped({ startedAt: '2026-11-20T06:01:00.000Z', stoppedAt: '2026-11-20T06:00:00.000Z' }),
          ),
        ).toEqual([120]);
      });

      it("is the run records' when the stop event lacks a time", async () => {
        expect(await finishedAfter(stopped({ stoppedAt: '2026-11-20T06:01:00.000Z' }))).toEqual([120]);
      });
    });

    describe('the outcome announced', () => {
      const started = async () => {
        const load = dayLoad(18);
        await protocol().recordLoad({ ...load, ...loaded }, backfill);
        await protocol().startRequested(backfill, work());
        return load;
      };
      const statuses = () => seen.ended.map((e) => e.status);

      it('once for a stop delivered again', async () => {
        await started();
        await protocol().finish(stopped(), cleanStage, observer());
        await protocol().finish(stopped(), cleanStage, observer());
        expect(statuses()).toEqual(['succeeded']);
      });

      it("again for another task's stop, even of the same outcome", async () => {
        await started();
        await protocol().finish(stopped(), cleanStage, observer());
        await protocol().finish(stopped({ taskId: 'task-2' }), cleanStage, observer());
        expect(statuses()).toEqual(['succeeded', 'succeeded']);
      });

      it('again for a stop of the same task that tells another outcome', async () => {
        const load = await started();
        await protocol().finish(stopped({ succeeded: false }), cleanStage, observer());
        await protocol().finish(stopped({ succeeded: true }), cleanStage, observer());
        expect(statuses()).toEqual(['transform_failed', 'succeeded']);
        expect((await recordOf(load))?.status).toBe('succeeded');
      });

      it('for an outcome a record holds without a finish time', async () => {
        const load = await started();
        const record = (await recordOf(load))!;
        await records.write({
          ...record,
          status: 'succeeded',
          transform: { taskId: 'task-1', startedAt: record.transform!.startedAt },
        });
        await protocol().finish(stopped(), cleanStage, observer());
        expect(statuses()).toEqual(['succeeded']);
      });

      it('for an outcome a record holds without naming its task', async () => {
        const load = await started();
        const { transform: _transform, ...record } = (await recordOf(load))!;
        await records.write({ ...record, status: 'succeeded' });
        await protocol().finish(stopped(), cleanStage, observer());
        expect(statuses()).toEqual(['succeeded']);
        expect((await recordOf(load))?.transform?.taskId).toBe('task-1');
      });
    });
  });

  describe('after a stop (recovery)', () => {
    it('counts a load whose dbt runs as unfinished', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await protocol().startRequested(backfill, work());
      expect(await protocol().unfinished()).toEqual([load]);
    });

    it('records a load interrupted while dbt ran, its transform finished at the interruption', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await protocol().startRequested(backfill, work());
      clock.advance(60_000);
      await protocol().recordInterrupted([load], 'interrupted by SIGTERM');
      expect(await recordOf(load)).toMatchObject({
        status: 'interrupted',
        reason: 'interrupted by SIGTERM',
        transform: {
          taskId: 'starting',
          startedAt: '2026-11-20T06:00:00.000Z',
          finishedAt: '2026-11-20T06:01:00.000Z',
        },
        updatedAt: '2026-11-20T06:01:00.000Z',
      });
    });

    it('records a load that has no record yet as interrupted', async () => {
      const load = dayLoad(18);
      await protocol().recordInterrupted([load], 'interrupted by SIGINT');
      const record: RunRecord | undefined = await recordOf(load);
      expect(record).toEqual({
        ...load,
        status: 'interrupted',
        rows: {},
        checks: [],
        timings: {},
        reason: 'interrupted by SIGINT',
        updatedAt: '2026-11-20T06:00:00.000Z',
      });
    });

    it('does not request again a batch already fixed, though its loads wait (dbt could not be placed)', async () => {
      const load = dayLoad(18);
      await protocol().recordLoad({ ...load, ...loaded }, backfill);
      await expect(
        protocol().startRequested(backfill, work({ buildError: new RetryableError('no Fargate capacity') })),
      ).rejects.toThrow('no Fargate capacity');
      expect((await recordOf(load))?.status).toBe('loaded');
      expect(await protocol().unrequestedBatches()).toEqual([]);
    });

    it('requests again a batch with a load still waiting beside an interrupted one, which leaves it', async () => {
      const [gone, waiting] = [dayLoad(17), dayLoad(18)];
      for (const l of [gone, waiting]) await protocol().recordLoad({ ...l, ...loaded }, backfill);
      await protocol().recordInterrupted([gone], 'interrupted by SIGINT');
      expect(await protocol().unrequestedBatches()).toEqual([backfill]);
      expect(await new TransformBatches(store).members(backfill)).toEqual([waiting]);
    });

    it('requests again a batch with a load waiting beside a member whose record is missing', async () => {
      const [unrecorded, waiting] = [dayLoad(17), dayLoad(18)];
      await new TransformBatches(store).join(backfill, unrecorded);
      await protocol().recordLoad({ ...waiting, ...loaded }, backfill);
      expect(await protocol().unrequestedBatches()).toEqual([backfill]);
    });

    it('passes over objects under the batches that are no batch of the lake', async () => {
      await protocol().recordLoad({ ...dayLoad(18), ...loaded }, backfill);
      await store.put('control/batches/old/batch.json', '{}');
      await store.put('control/batches/old/loads/notes.json', '{}');
      expect(await protocol().unrequestedBatches()).toEqual([backfill]);
    });
  });

  describe('the lock', () => {
    it('names a live holder, and gives back the lock of a dead one', async () => {
      const holder = { pid: 4242, host: 'laptop', command: 'chartflow run' };
      await new TransformLock(store, clock, { self: holder }).acquire('batch-other-0001');
      expect(await protocol().liveHolder()).toMatchObject({ batchId: 'batch-other-0001', ...holder });
      expect(await protocol().releaseDeadLock()).toBeUndefined();
      expect(await lockHolder()).toBe('batch-other-0001');

      const dead = new BatchProtocol(store, clock, { holderAlive: () => false });
      expect(await dead.releaseDeadLock()).toMatchObject({ batchId: 'batch-other-0001', ...holder });
      expect(await lockHolder()).toBeUndefined();
    });
  });

  describe('runs that did not load', () => {
    const run = { chartId: 'global', chartDate: '2026-11-18', runId: 'run-20261118-global' };

    it('records a run that never reached the stage, keyed by the run, naming no dead letters nor files unless there are', async () => {
      const record = await protocol().recordNotLoaded(run, 'the day never completed');
      expect(record).not.toHaveProperty('deadLettered');
      expect(record).not.toHaveProperty('damagedFiles');
      expect(
        JSON.parse(
          (await store.get(lakeKeys.runRecord(run.chartDate, run.chartId, run.runId, run.runId)))!.toString(),
        ),
      ).toEqual({
        ...run,
        loadId: run.runId,
        status: 'not_loaded',
        rows: {},
        checks: [],
        timings: {},
        reason: 'the day never completed',
        updatedAt: '2026-11-20T06:00:00.000Z',
      });
      expect(
        await protocol().recordNotLoaded(run, 'the day never completed', { deadLettered: 3 }),
      ).toMatchObject({
        deadLettered: 3,
      });
    });

    it('records a refused load with the files that are not what their manifests say', async () => {
      const load = dayLoad(18);
      const problem = { key: 'raw/a.csv', kind: 'missing', detail: 'the file is gone' } as const;
      expect(await protocol().recordRefused(load, [problem])).toMatchObject({
        status: 'not_loaded',
        damagedFiles: [problem],
      });
    });

    it('says how many lake files a refused load was refused for, in one sentence', () => {
      const problem = (key: string) =>
        ({ key, kind: 'size', detail: '1042 bytes, the manifest says 2210' }) as const;
      expect(refusalReason([problem('raw/a.csv')])).toBe(
        'refused: a lake file is not what the manifests say (raw/a.csv: size (1042 bytes, the manifest says 2210)); ' +
          "nothing was staged and no file was changed (chartflow verify lists the lake's damaged files)",
      );
      expect(refusalReason([problem('raw/a.csv'), problem('raw/b.csv')])).toBe(
        'refused: 2 lake files are not what the manifests say (raw/a.csv: size (1042 bytes, the manifest says 2210); ' +
          'raw/b.csv: size (1042 bytes, the manifest says 2210)); nothing was staged and no file was changed ' +
          "(chartflow verify lists the lake's damaged files)",
      );
    });
  });
});
