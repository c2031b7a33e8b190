import type { ObjectStore } from '../../shared/ports/object-store.js';
import { lakeKeys, legacyLakeKeys, rawPrefix, tablePrefix } from '../../shared/lake/keys.js';
import type { ChartDay } from '../../shared/records/messages.js';

/**
 * Moves a day's normalized CSVs from `tables/` to the keys they had before each dataset had a
 * folder of its own (`legacyLakeKeys`: beside the raw answers under `raw/`), and rewrites the keys
 * the day's manifest and every part's manifest (a marker's body) list, as the writers of that time
 * wrote them. The bytes stay the same, so every md5 and SHA-256 the keys and manifests hold stays
 * true: the day is what a lake written before the change holds. Returns the keys moved, old → new.
 */
export const toLegacyLayout = async (store: ObjectStore, day: ChartDay): Promise<Map<string, string>> => {
  const { chartDate, chartId } = day;
  const moved = new Map<string, string>();
  const chartCsv = lakeKeys.chartCsv(chartDate, chartId);
  if ((await store.get(chartCsv)) !== undefined)
    moved.set(chartCsv, legacyLakeKeys.chartCsv(chartDate, chartId));
  for (const [table, legacy] of [
    ['song_attributes', legacyLakeKeys.attributesCsv],
    ['song_artists', legacyLakeKeys.artistsCsv],
  ] as const) {
    const prefix = tablePrefix(table, chartDate, chartId);
    for (const { key } of await store.list(prefix)) {
      moved.set(key, legacy(chartDate, chartId, key.slice(prefix.length).replace(/\.csv$/, '')));
    }
  }
  for (const [from, to] of moved) {
    await store.put(to, (await store.get(from))!, { contentType: 'text/csv' });
    await store.delete(from);
  }
  const relisted = (body: Buffer) => {
    const json = JSON.parse(body.toString('utf8')) as { files?: { key: string }[] };
    for (const file of json.files ?? []) file.key = moved.get(file.key) ?? file.key;
    return JSON.stringify(json);
  };
  for (const { key, size } of await store.list(rawPrefix('song_attributes', chartDate, chartId))) {
    if (!key.includes('/_done.') || size === 0) continue;
    await store.put(key, relisted((await store.get(key))!), { contentType: 'application/json' });
  }
  const manifest = lakeKeys.manifest(chartDate, chartId);
  const body = await store.get(manifest);
  if (body !== undefined) await store.put(manifest, relisted(body), { contentType: 'application/json' });
  return moved;
};
