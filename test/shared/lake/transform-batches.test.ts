import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { TransformBatches, type BatchLoad } from '../../../shared/lake/transform-batches.js';
import { noteContentTypes, vanishing } from './store-doubles.js';

const batchId = '20261121T060000000Z-bat1';
const load: BatchLoad = {
  runId: '20261121T055000000Z-run1',
  loadId: '20261121T055900000Z-lod1',
  chartId: 'global',
  chartDate: '2026-11-20',
};

describe('Class: TransformBatches', () => {
  let root: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-batches-'));
    store = new FsObjectStore({ root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes a batch, its members and the days it expects as JSON, and says so in their content type', async () => {
    const { store: noting, contentTypes } = noteContentTypes(store);
    const batches = new TransformBatches(noting);

    await batches.join(batchId, load);
    await batches.expect({
      batchId,
      createdAt: '2026-11-21T06:00:00.000Z',
      days: [{ chartId: 'global', chartDate: '2026-11-20' }],
    });
    await batches.write({ batchId, createdAt: '2026-11-21T06:00:00.000Z', loads: [load] });

    expect(Object.fromEntries(contentTypes)).toEqual({
      [lakeKeys.batchMember(batchId, load.chartDate, load.chartId, load.loadId)]: 'application/json',
      [lakeKeys.batchExpected(batchId)]: 'application/json',
      [lakeKeys.batch(batchId)]: 'application/json',
    });
    expect(await batches.members(batchId)).toEqual([load]);
    expect(await batches.hasEveryExpectedDay(batchId)).toBe(true);
    expect((await batches.read(batchId))?.loads).toEqual([load]);
  });

  it('refuses a member listed but gone when it is read, naming it', async () => {
    await new TransformBatches(store).join(batchId, load);
    const member = lakeKeys.batchMember(batchId, load.chartDate, load.chartId, load.loadId);

    const members = new TransformBatches(vanishing(store, (key) => key === member)).members(batchId);

    await expect(members).rejects.toThrow(InvalidRecordError);
    await expect(members).rejects.toThrow(`${member}: vanished while it was read`);
  });
});
