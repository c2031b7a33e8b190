import type { ObjectStore } from '../ports/object-store.js';
import { manifestSchema, type ChartDay, type Manifest } from '../records/messages.js';
import { parseJsonOrThrow } from '../parse.js';
import { lakeKeys } from './keys.js';

/**
 * The manifest of a day and chart (what its latest run expects), or `undefined` while chart-fetch
 * has not written one.
 *
 * @throws {InvalidRecordError} if it is not a manifest
 */
export const readManifest = async (store: ObjectStore, day: ChartDay): Promise<Manifest | undefined> => {
  const key = lakeKeys.manifest(day.chartDate, day.chartId);
  const body = await store.get(key);
  return body === undefined
    ? undefined
    : parseJsonOrThrow(manifestSchema, body.toString('utf8'), `manifest ${key}`);
};
