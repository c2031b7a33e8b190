import type { ObjectStore } from '../../shared/ports/index.js';
import { datasets, lakeKeys, rawPrefix } from '../../shared/lake/keys.js';

export interface ReplayRequest {
  readonly chartDate: string;
  readonly chartId?: string;
}

export interface ReplayResult {
  readonly claimsReset: number;
  readonly objectsReplayed: number;
}

/**
 * Reprocesses a day from what the lake already holds: forget that its runs were loaded (reset the
 * claims), then announce every object under its raw prefix again, exactly as if each had just been
 * written. The stage-loader does the rest. Raw data is only read, never changed.
 */
export const replayDay = async (request: ReplayRequest, store: ObjectStore): Promise<ReplayResult> => {
  const claims = await store.list(lakeKeys.claimsPrefix(request.chartDate, request.chartId));
  await Promise.all(claims.map(({ key }) => store.delete(key)));
  const objects = (
    await Promise.all(
      datasets.map((dataset) => store.list(rawPrefix(dataset, request.chartDate, request.chartId))),
    )
  ).flat();
  for (const { key } of objects) await store.touch(key);
  return { claimsReset: claims.length, objectsReplayed: objects.length };
};
