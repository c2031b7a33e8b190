import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { readManifest } from '../../../shared/lake/manifests.js';

describe('Function: readManifest', () => {
  const day = { chartDate: '2026-03-01', chartId: 'global' };

  it('reads no manifest of a day chart-fetch has not written', async () => {
    const store = new FsObjectStore({ root: mkdtempSync(path.join(tmpdir(), 'chartflow-manifests-')) });
    expect(await readManifest(store, day)).toBeUndefined();
  });

  it('refuses a manifest that is not one, naming it and its key', async () => {
    const store = new FsObjectStore({ root: mkdtempSync(path.join(tmpdir(), 'chartflow-manifests-')) });
    const key = lakeKeys.manifest(day.chartDate, day.chartId);
    await store.put(key, '{"runId": 7}');

    await expect(readManifest(store, day)).rejects.toThrow(InvalidRecordError);
    await expect(readManifest(store, day)).rejects.toThrow(new RegExp(`^manifest ${key}: `));
  });
});
