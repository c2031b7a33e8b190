import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findDayLoads, findStaleLock } from '../../../services/reconciler/find-transforms.js';
import type { Action } from '../../../services/reconciler/report.js';
import type { Scan } from '../../../services/reconciler/scan.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { lockTtlMs } from '../../../shared/lake/transform-lock.js';
import type { Manifest } from '../../../shared/records/messages.js';
import {
  batchId,
  day,
  first,
  load1,
  load2,
  minutes,
  otherBatch,
  run1,
  run2,
  second,
  setUp,
  type Setup,
} from './scan-fixture.js';

const ttlHours = lockTtlMs / 3_600_000;
const subject = { ...day, runId: run1, loadId: load1 };
/** A newer load of the day: run1 loaded again (a replay). */
const replay = { ...first, loadId: '20261120T080000000Z-1oad0003' };
/** A newer load of the day: run2's. */
const run2Load = { ...day, runId: run2, loadId: load2 };

let s: Setup;
beforeEach(async () => {
  s = await setUp();
});
afterEach(async () => s.close());

const findDay = async (scan: Scan, manifest?: Manifest) =>
  findDayLoads(scan, day, await s.records(), manifest);
const kinds = (actions: Action[]) => actions.map((a) => a.kind);

describe('findStaleLock', () => {
  it('finds nothing when no lock is held, or when it is held within its TTL', async () => {
    expect(await findStaleLock(await s.scan())).toEqual([]);
    await s.lock(otherBatch, lockTtlMs - minutes(1));
    expect(await findStaleLock(await s.scan())).toEqual([]);
  });

  it('gives back a lock past its TTL whose batch is not transforming, naming the batch', async () => {
    await s.lock(otherBatch, lockTtlMs + minutes(1));

    const [planned, ...more] = await findStaleLock(await s.scan());

    expect(more).toEqual([]);
    expect(planned?.action).toBe('released_lock');
    expect(planned?.finding).toEqual({
      kind: 'stale_lock',
      batchId: otherBatch,
      evidence: `the transform lock of batch ${otherBatch} was taken at ${s.iso(lockTtlMs + minutes(1))}, and its holder is dead or silent past the ${ttlHours} h TTL`,
    });
    expect(await planned!.repair()).toEqual([
      { kind: 'released_lock', batchId: otherBatch, detail: 'gave the transform lock back' },
    ]);
    expect(await s.store.get(lakeKeys.transformLock())).toBeUndefined();
  });

  it('leaves a lock that was taken over since it was read', async () => {
    await s.lock(otherBatch, lockTtlMs + minutes(1));
    const [planned] = await findStaleLock(await s.scan());
    await s.lock(batchId, minutes(1));

    expect(await planned!.repair()).toEqual([
      {
        kind: 'released_lock',
        batchId: otherBatch,
        detail: 'left the transform lock: it changed since it was read (taken over, or released)',
      },
    ]);
    const lock = await s.store.get(lakeKeys.transformLock());
    expect(JSON.parse(lock!.toString('utf8'))).toMatchObject({ batchId });
  });

  it('gives back a lock that cannot be read, naming no batch', async () => {
    await s.store.put(lakeKeys.transformLock(), 'not a lock');

    const [planned] = await findStaleLock(await s.scan());

    expect(planned?.finding).toEqual({ kind: 'stale_lock', evidence: 'the transform lock cannot be read' });
    expect(await planned!.repair()).toEqual([
      { kind: 'released_lock', detail: 'gave the transform lock back' },
    ]);
  });

  it('gives back a stale lock whose batch ended', async () => {
    await s.fix(batchId, [first]);
    await s.record(first, 'succeeded');
    await s.lock(batchId, lockTtlMs + minutes(1));

    expect((await findStaleLock(await s.scan())).map((p) => p.finding.kind)).toEqual(['stale_lock']);
  });

  it('finds a stuck transform when a load of the stale lock’s batch is transforming; a batch of many names only itself', async () => {
    await s.fix(batchId, [first, second]);
    await s.record(first, 'transforming');
    await s.record(second, 'interrupted');
    await s.lock(batchId, lockTtlMs + minutes(1));

    const [planned, ...more] = await findStaleLock(await s.scan());

    expect(more).toEqual([]);
    expect(planned?.action).toBe('recorded_interrupted');
    expect(planned?.finding).toEqual({
      kind: 'stuck_transform',
      batchId,
      evidence: `the transform lock of batch ${batchId} was taken at ${s.iso(lockTtlMs + minutes(1))}, and its holder is dead or silent past the ${ttlHours} h TTL`,
    });
  });

  it('ends a stuck batch of one, gives its lock back and loads its day again', async () => {
    await s.fix(batchId, [first]);
    await s.record(first, 'transforming');
    await s.manifest(run1);
    await s.claim(run1, minutes(40));
    await s.lock(batchId, lockTtlMs + minutes(1));

    const [planned] = await findStaleLock(await s.scan());

    expect(planned?.finding).toEqual(
      expect.objectContaining({ kind: 'stuck_transform', batchId, ...subject }),
    );
    const actions = await planned!.repair();
    expect(kinds(actions)).toEqual([
      'cleaned_stage',
      'recorded_interrupted',
      'released_lock',
      'reset_claim',
      'redelivered_object_created',
    ]);
    expect(await s.records()).toEqual([
      expect.objectContaining({
        loadId: load1,
        status: 'interrupted',
        reason: `its clean-up never came (${planned!.finding.evidence})`,
      }),
    ]);
    expect(s.delivered.map((o) => o.key)).toEqual([lakeKeys.manifest(day.chartDate, day.chartId)]);
  });
});

describe('findDayLoads: a stuck transform', () => {
  it('ends a load transforming with no lock and no batch written, as a batch of its own, and loads its day again', async () => {
    const record = await s.record(first, 'transforming');
    await s.manifest(run1);
    const scan = await s.scan();

    const [planned, ...more] = await findDay(scan);

    expect(more).toEqual([]);
    expect(planned?.finding).toEqual({
      kind: 'stuck_transform',
      batchId: load1,
      ...subject,
      evidence: `load ${load1} is transforming since ${record.updatedAt}, and no live holder of the transform lock is building it`,
    });
    expect(kinds(await planned!.repair())).toEqual([
      'cleaned_stage',
      'recorded_interrupted',
      'redelivered_object_created',
    ]);
  });

  it('gives back no lock that the stuck batch does not hold (one that cannot be read)', async () => {
    await s.record(first, 'transforming');
    await s.store.put(lakeKeys.transformLock(), 'not a lock');

    const [planned] = await findDay(await s.scan());

    expect(kinds(await planned!.repair())).toEqual(['cleaned_stage', 'recorded_interrupted']);
    expect(await s.store.get(lakeKeys.transformLock())).toBeDefined();
  });

  it('finds the load’s batch by the batch its record names', async () => {
    await s.fix(batchId, [first, second]);
    await s.record(first, 'transforming', minutes(30), {
      batch: { batchId, loads: 2, failedLoads: 0, failed: [] },
    });

    const [planned] = await findDay(await s.scan());

    expect(planned?.finding).toEqual(
      expect.objectContaining({ kind: 'stuck_transform', batchId, evidence: expect.any(String) }),
    );
    expect(planned?.finding).not.toHaveProperty('loadId');
  });

  it('finds a batch once, and not again for another of its loads', async () => {
    await s.record(first, 'transforming');
    const scan = await s.scan();
    scan.stuckBatches.add(load1);

    expect(await findDay(scan)).toEqual([]);
  });

  it('ends a transforming load while another batch holds the warehouse alive', async () => {
    await s.record(first, 'transforming');
    await s.lock(otherBatch, minutes(1));

    expect((await findDay(await s.scan())).map((p) => p.finding.kind)).toEqual(['stuck_transform']);
  });

  it('does not load again a day whose newest load is another one of its run, nor one whose manifest names another run, nor one with no manifest', async () => {
    await s.record(first, 'transforming');
    await s.record(replay, 'loaded');
    await s.manifest(run1);
    await s.fix(batchId, [first]);
    await s.lock(batchId, lockTtlMs + minutes(1));
    const [replaced] = await findStaleLock(await s.scan());
    expect(kinds(await replaced!.repair())).toEqual([
      'cleaned_stage',
      'recorded_interrupted',
      'released_lock',
    ]);

    await s.store.delete(lakeKeys.runRecord(day.chartDate, day.chartId, run1, replay.loadId));
    await s.record(first, 'transforming');
    await s.manifest(run2);
    const [otherRun] = await findDay(await s.scan());
    expect(kinds(await otherRun!.repair())).toEqual(['cleaned_stage', 'recorded_interrupted']);

    await s.store.delete(lakeKeys.manifest(day.chartDate, day.chartId));
    await s.record(first, 'transforming');
    const [noManifest] = await findDay(await s.scan());
    expect(kinds(await noManifest!.repair())).toEqual(['cleaned_stage', 'recorded_interrupted']);
    expect(s.delivered).toEqual([]);
  });

  it('loads the day again when a newer record only says a run was not loaded, but not when a newer load was refused', async () => {
    await s.fix(batchId, [first]);
    await s.record(first, 'transforming');
    await s.manifest(run1);
    await s.record({ ...day, runId: run2, loadId: run2 }, 'not_loaded');
    await s.lock(batchId, lockTtlMs + minutes(1));
    const [notLoaded] = await findStaleLock(await s.scan());
    expect(kinds(await notLoaded!.repair())).toContain('redelivered_object_created');

    s.delivered.length = 0;
    await s.store.delete(lakeKeys.runRecord(day.chartDate, day.chartId, run2, run2));
    await s.record(first, 'transforming');
    await s.record(run2Load, 'not_loaded');
    await s.lock(batchId, lockTtlMs + minutes(1));
    const [refused] = await findStaleLock(await s.scan());
    expect(kinds(await refused!.repair())).not.toContain('redelivered_object_created');
    expect(s.delivered).toEqual([]);
  });
});

describe('findDayLoads: loads that nothing carries on', () => {
  it('leaves a load within the grace period', async () => {
    const record = await s.record(first, 'loaded', minutes(5));
    const scan = await s.scan();

    expect(await findDay(scan)).toEqual([]);
    expect(scan.leftAlone).toEqual([
      { ...subject, why: `it is loaded since ${record.updatedAt}, within the grace period` },
    ]);
  });

  it('leaves a loaded load alone while the warehouse is busy, even with its own batch', async () => {
    await s.record(first, 'loaded', minutes(30), {
      batch: { batchId, loads: 1, failedLoads: 0, failed: [] },
    });
    await s.lock(batchId, minutes(1));
    const scan = await s.scan();

    expect(await findDay(scan)).toEqual([]);
    expect(scan.leftAlone).toEqual([
      {
        ...subject,
        why: `the warehouse is busy (batch ${batchId} holds the transform lock): its event may be waiting for it`,
      },
    ]);
  });

  it('ends a load a newer load of its day replaced', async () => {
    const record = await s.record(first, 'loaded');
    await s.record(run2Load, 'loaded');
    const scan = await s.scan();

    const [planned] = await findDay(scan);

    expect(planned?.action).toBe('recorded_interrupted');
    expect(planned?.finding).toEqual({
      kind: 'superseded_load',
      ...subject,
      evidence: `it is loaded since ${record.updatedAt}, and a newer load of the day replaced it`,
    });
    expect(scan.cleanedSlices).toEqual(new Set([`${run1}/${day.chartId}/${day.chartDate}`]));
    await planned!.repair();
    expect((await s.records())[0]).toMatchObject({
      status: 'interrupted',
      reason: 'a newer load of its day replaced it before it was transformed',
    });
  });

  it('takes a newer refused load for the day’s newest, and a newer "not loaded" record of a run for none', async () => {
    await s.record(first, 'loaded');
    await s.record({ ...day, runId: run2, loadId: run2 }, 'not_loaded');
    expect((await findDay(await s.scan())).map((p) => p.finding.kind)).toEqual(['untransformed']);

    await s.record(run2Load, 'not_loaded');
    expect((await findDay(await s.scan())).map((p) => p.finding.kind)).toEqual(['superseded_load']);
  });

  it('finds nothing for a day whose newest load succeeded', async () => {
    await s.record(first, 'succeeded');

    expect(await findDay(await s.scan())).toEqual([]);
  });
});

describe('findDayLoads: a load no transform took', () => {
  it('puts "Stage Loaded" again for a load of no backfill', async () => {
    const record = await s.record(first, 'loaded');

    const [planned] = await findDay(await s.scan());

    expect(planned?.action).toBe('published_stage_loaded');
    expect(planned?.finding).toEqual({
      kind: 'untransformed',
      ...subject,
      evidence: `it is loaded since ${record.updatedAt}, and no transform took it`,
    });
    await planned!.repair();
    expect(s.published).toEqual([
      expect.objectContaining({
        detailType: 'Stage Loaded',
        detail: expect.not.objectContaining({ batchId }),
      }),
    ]);
  });

  it('puts "Transform Requested" again for a load of a backfill batch that was fixed with it', async () => {
    await s.record(first, 'loaded');
    await s.fix(batchId, [first, second]);
    const manifest = await s.manifest(run1, batchId);

    const [planned] = await findDay(await s.scan(), manifest);

    expect(planned?.action).toBe('published_transform_requested');
    expect(planned?.finding).toEqual(expect.objectContaining({ kind: 'untransformed', ...subject, batchId }));
    await planned!.repair();
    expect(s.published).toEqual([
      expect.objectContaining({ detailType: 'Transform Requested', detail: { batchId } }),
    ]);
  });

  it('puts "Stage Loaded" with its batch for a load that completed after its backfill batch was fixed', async () => {
    await s.record(first, 'loaded');
    await s.fix(batchId, [second]);
    const manifest = await s.manifest(run1, batchId);

    const [planned] = await findDay(await s.scan(), manifest);

    expect(planned?.action).toBe('published_stage_loaded');
    expect(planned?.finding).not.toHaveProperty('batchId');
    await planned!.repair();
    expect(s.published).toEqual([
      expect.objectContaining({ detailType: 'Stage Loaded', detail: expect.objectContaining({ batchId }) }),
    ]);
  });

  it('leaves a load waiting for a backfill batch never fixed to the batch’s finding', async () => {
    await s.record(first, 'loaded');
    const manifest = await s.manifest(run1, batchId);

    expect(await findDay(await s.scan(), manifest)).toEqual([]);
  });

  it('ignores the batch of a manifest that names another run', async () => {
    await s.record(first, 'loaded');
    await s.fix(batchId, [first]);
    const manifest = await s.manifest(run2, batchId);

    const [planned] = await findDay(await s.scan(), manifest);

    expect(planned?.action).toBe('published_stage_loaded');
    expect(planned?.finding).not.toHaveProperty('batchId');
  });
});

describe('findDayLoads: an interrupted day', () => {
  it('loads again a day whose newest load was interrupted, saying why it was', async () => {
    await s.record(first, 'interrupted', minutes(30), { reason: 'interrupted by SIGINT' });

    const [planned] = await findDay(await s.scan());

    expect(planned?.action).toBe('redelivered_object_created');
    expect(planned?.finding).toEqual({
      kind: 'interrupted',
      ...subject,
      evidence: 'its newest load was interrupted (interrupted by SIGINT), and the day was not loaded since',
    });
  });

  it('says so when the interrupted load gives no reason', async () => {
    await s.record(first, 'interrupted');

    const [planned] = await findDay(await s.scan());

    expect(planned?.finding.evidence).toBe(
      'its newest load was interrupted (no reason given), and the day was not loaded since',
    );
  });

  it('leaves a day whose run was claimed again within the grace period, and not one claimed before it', async () => {
    await s.record(first, 'interrupted');
    await s.claim(run1, minutes(5));
    const scan = await s.scan();

    expect(await findDay(scan)).toEqual([]);
    expect(scan.leftAlone).toEqual([
      { ...subject, why: `its run was claimed again at ${s.iso(minutes(5))}: a load is under way` },
    ]);

    await s.claim(run1, minutes(40));
    expect((await findDay(await s.scan())).map((p) => p.finding.kind)).toEqual(['interrupted']);
  });
});
