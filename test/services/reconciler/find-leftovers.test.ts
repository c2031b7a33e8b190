import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findStageLeftovers,
  findUnrequestedBatches,
  inWindow,
} from '../../../services/reconciler/find-leftovers.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
import { lockTtlMs } from '../../../shared/lake/transform-lock.js';
import type { StageSlice } from '../../../shared/ports/index.js';
import {
  batchId,
  day,
  first,
  grace,
  load2,
  minutes,
  run1,
  run2,
  second,
  setUp,
  type Setup,
} from './scan-fixture.js';

const wholeDay = { from: day.chartDate, to: day.chartDate };

describe('inWindow: the days and chart a reconcile looks at', () => {
  const window = { from: '2026-11-10', to: '2026-11-20' };

  it('takes the days from `from` to `to`, both included, of any chart unless one is named', () => {
    expect(inWindow(window, { chartId: 'global', chartDate: '2026-11-10' })).toBe(true);
    expect(inWindow(window, { chartId: 'us', chartDate: '2026-11-20' })).toBe(true);
    expect(inWindow(window, { chartId: 'global', chartDate: '2026-11-09' })).toBe(false);
    expect(inWindow(window, { chartId: 'global', chartDate: '2026-11-21' })).toBe(false);
  });

  it('takes only the named chart’s days when a chart is named', () => {
    const global = { ...window, chartId: 'global' };
    expect(inWindow(global, { chartId: 'global', chartDate: '2026-11-15' })).toBe(true);
    expect(inWindow(global, { chartId: 'us', chartDate: '2026-11-15' })).toBe(false);
    expect(inWindow(global, { chartId: 'global', chartDate: '2026-11-21' })).toBe(false);
  });
});

describe('findUnrequestedBatches', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => s.close());

  it('finds a batch whose waiting loads joined past the grace period, counts the loads that wait, and requests it', async () => {
    await s.join(batchId, first, minutes(40));
    await s.join(batchId, second, minutes(20));
    await s.record(first, 'loaded');
    await s.record(second, 'interrupted');
    const lastJoin = new Date(s.now - minutes(20)).toISOString();

    const planned = await findUnrequestedBatches(await s.scan(), { from: '2026-11-20', to: '2026-11-21' });

    expect(planned.map((p) => [p.finding, p.action])).toEqual([
      [
        {
          kind: 'unrequested_batch',
          batchId,
          evidence: `1 of its 2 loads are loaded and wait for it, and no "Transform Requested" fixed it (the last joined at ${lastJoin})`,
        },
        'published_transform_requested',
      ],
    ]);
    expect(await planned[0]!.repair()).toEqual([
      {
        kind: 'published_transform_requested',
        batchId,
        detail: `put "Transform Requested" for batch ${batchId} on the bus`,
      },
    ]);
    expect(s.published).toEqual([expect.objectContaining({ detail: { batchId } })]);
  });

  it('counts a member without a run record as not waiting', async () => {
    await s.join(batchId, first, minutes(40));
    await s.join(batchId, second, minutes(40));
    await s.record(first, 'loaded');

    const [planned] = await findUnrequestedBatches(await s.scan(), { from: '2026-11-20', to: '2026-11-21' });

    expect(planned?.finding.evidence).toMatch(/^1 of its 2 loads are loaded/);
  });

  it('looks at a batch if any of its loads is in the window, and at none whose loads are all outside it', async () => {
    await s.join(batchId, first, minutes(40));
    await s.join(batchId, second, minutes(40));
    await s.record(first, 'loaded');
    await s.record(second, 'loaded');

    expect(await findUnrequestedBatches(await s.scan(), wholeDay)).toHaveLength(1);
    expect(await findUnrequestedBatches(await s.scan(), { from: '2026-11-22', to: '2026-11-23' })).toEqual(
      [],
    );
    const scan = await s.scan();
    expect(await findUnrequestedBatches(scan, { ...wholeDay, chartId: 'us' })).toEqual([]);
    expect(scan.leftAlone).toEqual([]);
  });

  it('leaves a batch none of whose loads waits (all interrupted, say)', async () => {
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'interrupted');
    const scan = await s.scan();

    expect(await findUnrequestedBatches(scan, wholeDay)).toEqual([]);
    expect(scan.leftAlone).toEqual([]);
  });

  it('leaves a batch that a "Transform Requested" fixed', async () => {
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'loaded');
    await new TransformBatches(s.store).write({ batchId, createdAt: s.iso(0), loads: [first] });

    expect(await findUnrequestedBatches(await s.scan(), wholeDay)).toEqual([]);
  });

  it('ignores an object under the batches’ folder that is no batch’s', async () => {
    await s.store.put('control/batches/README.json', '{}');
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'loaded');

    expect((await findUnrequestedBatches(await s.scan(), wholeDay)).map((p) => p.finding.batchId)).toEqual([
      batchId,
    ]);
  });

  it('is patient from the newest join, whichever member is listed first', async () => {
    // The first listed (its day sorts first) joined last…
    await s.join(batchId, first, minutes(5));
    await s.join(batchId, second, minutes(40));
    await s.record(first, 'loaded');
    const window = { from: '2026-11-20', to: '2026-11-21' };
    const scan = await s.scan();
    expect(await findUnrequestedBatches(scan, window)).toEqual([]);
    expect(scan.leftAlone).toEqual([
      {
        batchId,
        why: `a load joined it at ${new Date(s.now - minutes(5)).toISOString()}: its backfill may still be loading days`,
      },
    ]);

    // …and, in another batch, the last listed.
    const other = '20261120T050000000Z-ba7c0002';
    await s.join(other, first, minutes(40));
    await s.join(other, second, minutes(5));
    const again = await s.scan();
    expect(await findUnrequestedBatches(again, window)).toEqual([]);
    expect(again.leftAlone.map((l) => l.batchId)).toEqual([batchId, other]);
  });

  it('counts only the loads’ joins, not the batch’s other objects, in its patience', async () => {
    await new TransformBatches(s.store).expect({ batchId, createdAt: s.iso(0), days: [day] });
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'loaded');
    await s.touch(lakeKeys.batchExpected(batchId), minutes(1));

    const planned = await findUnrequestedBatches(await s.scan(), wholeDay);

    expect(planned.map((p) => p.finding.kind)).toEqual(['unrequested_batch']);
  });

  it('waits the grace period, its last instant included', async () => {
    await s.join(batchId, first, grace);
    await s.record(first, 'loaded');

    expect(await findUnrequestedBatches(await s.scan(), wholeDay)).toEqual([]);
    expect(await findUnrequestedBatches(await s.scan({ now: s.now + 1 }), wholeDay)).toHaveLength(1);
  });

  it('leaves a batch alone while another batch holds the warehouse, and finds it when that lock is past its TTL', async () => {
    const holder = '20261120T040000000Z-0the0001';
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'loaded');
    await s.lock(holder, minutes(1));

    const busy = await s.scan();
    expect(await findUnrequestedBatches(busy, wholeDay)).toEqual([]);
    expect(busy.leftAlone).toEqual([
      {
        batchId,
        why: `the warehouse is busy (batch ${holder} holds the transform lock): its request may be waiting for it`,
      },
    ]);

    await s.lock(holder, lockTtlMs + minutes(1));
    const stale = await s.scan();
    expect(await findUnrequestedBatches(stale, wholeDay)).toHaveLength(1);
    expect(stale.leftAlone).toEqual([]);
  });

  it('puts nothing if the warehouse became busy before the repair, and nothing for a batch fixed meanwhile', async () => {
    await s.join(batchId, first, minutes(40));
    await s.record(first, 'loaded');
    const [planned] = await findUnrequestedBatches(await s.scan(), wholeDay);

    await s.lock('20261120T040000000Z-0the0001', minutes(1));
    expect(await planned!.repair()).toEqual([
      {
        kind: 'published_transform_requested',
        batchId,
        detail: 'put nothing: the warehouse became busy meanwhile (the next round looks again)',
      },
    ]);

    await s.lock('20261120T040000000Z-0the0001', lockTtlMs + minutes(1));
    await new TransformBatches(s.store).write({ batchId, createdAt: s.iso(0), loads: [first] });
    expect(await planned!.repair()).toEqual([]);
    expect(s.published).toEqual([]);
  });
});

describe('findStageLeftovers', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => s.close());

  const slice: StageSlice = { ...day, runId: run1 };

  it('finds the rows of a run whose newest load ended, and empties the stage of them', async () => {
    await s.record({ ...first, loadId: '20261120T061000000Z-1oad0000' }, 'interrupted', minutes(50));
    await s.record(first, 'succeeded', minutes(40));
    await s.record({ ...first, loadId: '20261120T061000000Z-1oad0009' }, 'transform_failed', minutes(30));

    const [planned, ...more] = await findStageLeftovers(await s.scan(), [slice], {});

    expect(more).toEqual([]);
    expect(planned?.action).toBe('cleaned_stage');
    expect(planned?.finding).toEqual({
      kind: 'stage_not_cleaned',
      ...slice,
      evidence: `the stage holds its rows, and its newest load ended transform_failed at ${s.iso(minutes(30))}`,
    });
    expect(await planned!.repair()).toEqual([
      { kind: 'cleaned_stage', ...slice, detail: "emptied the stage of the run's rows" },
    ]);
    expect(s.cleaned).toEqual([[slice]]);
  });

  it('names the one record of a run that ended', async () => {
    await s.record(first, 'succeeded', minutes(40));

    const [planned] = await findStageLeftovers(await s.scan(), [slice], {});

    expect(planned?.finding.evidence).toBe(
      `the stage holds its rows, and its newest load ended succeeded at ${s.iso(minutes(40))}`,
    );
  });

  it('finds the rows of a run no record names, with its claim when it was claimed past the grace period', async () => {
    const [unclaimed] = await findStageLeftovers(await s.scan(), [slice], {});
    expect(unclaimed?.finding.evidence).toBe('the stage holds its rows, and no run record names the run');

    await s.claim(run1, minutes(40));
    const [claimed] = await findStageLeftovers(await s.scan(), [slice], {});
    expect(claimed?.finding.evidence).toBe(
      `the stage holds its rows, and no run record names the run (claimed at ${s.iso(minutes(40))})`,
    );
  });

  it('judges a run by its own records, not by another run’s of the day', async () => {
    await s.record({ ...day, runId: run2, loadId: load2 }, 'loaded');

    expect((await findStageLeftovers(await s.scan(), [slice], {})).map((p) => p.finding.runId)).toEqual([
      run1,
    ]);
  });

  it('leaves the rows of a run one of whose loads is still loaded or transforming', async () => {
    await s.record(first, 'interrupted', minutes(50));
    await s.record({ ...first, loadId: '20261120T061000000Z-1oad0009' }, 'loaded');
    expect(await findStageLeftovers(await s.scan(), [slice], {})).toEqual([]);

    await s.record({ ...first, loadId: '20261120T061000000Z-1oad0009' }, 'transforming');
    expect(await findStageLeftovers(await s.scan(), [slice], {})).toEqual([]);
  });

  it('leaves the rows of a run claimed within the grace period: its load may be under way', async () => {
    await s.claim(run1, minutes(5));
    const scan = await s.scan();

    expect(await findStageLeftovers(scan, [slice], {})).toEqual([]);
    expect(scan.leftAlone).toEqual([
      { ...slice, why: `its run was claimed at ${s.iso(minutes(5))}: its load may be under way` },
    ]);
  });

  it('looks only at the named chart’s slices, when one is named', async () => {
    const us = { ...slice, chartId: 'us' };

    const planned = await findStageLeftovers(await s.scan(), [slice, us], { chartId: 'us' });

    expect(planned.map((p) => p.finding.chartId)).toEqual(['us']);
  });

  it('leaves a slice that a planned repair already empties', async () => {
    const scan = await s.scan();
    scan.cleanedSlices.add(`${run1}/${day.chartId}/${day.chartDate}`);

    expect(await findStageLeftovers(scan, [slice], {})).toEqual([]);
  });
});
