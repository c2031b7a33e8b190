import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import type { BusEvent, EventBus } from '../../../shared/ports/event-bus.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import type { Manifest } from '../../../shared/records/messages.js';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import { localContext } from '../../../infra/local/handler-context.js';

const day = { chartDate: '2026-11-20', chartId: 'global' };
const lineage = (runId: string) => ({
  chart_id: 'global',
  chart_date: day.chartDate,
  run_id: runId,
  extracted_at: '2026-11-21 06:00:00.000',
});

/** Lands a complete day for a run: chart, manifest, and attribute parts covering every id. */
const landDay = async (store: FsObjectStore, runId: string, ids: string[]) => {
  await store.put(
    lakeKeys.chartCsv(day.chartDate, day.chartId),
    toStageCsv(
      'chart_songs',
      ids.map((id, i) => ({
        ...lineage(runId),
        position: i + 1,
        track_id: id,
        track_name: `n${i}`,
        artist_names: 'a',
        source: 't',
      })),
    ),
  );
  const manifest: Manifest = {
    runId,
    ...day,
    source: 't',
    extractedAt: '2026-11-21T06:00:00.000Z',
    trackIds: ids,
    skipped: [],
  };
  await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest));
  for (const half of [ids.slice(0, 2), ids.slice(2)]) {
    const part = partName(half);
    await store.put(
      lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
      toStageCsv(
        'song_artists',
        half.map((id) => ({
          ...lineage(runId),
          track_id: id,
          artist_position: 1,
          artist_id: 'a1',
          artist_name: 'A',
        })),
      ),
    );
    await store.put(
      lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
      toStageCsv(
        'song_attributes',
        half.map((id) => ({ ...lineage(runId), track_id: id, enrichment_status: 'ok' })),
      ),
    );
  }
};

describe('Function: stage-loader handler', () => {
  let home: string;
  let store: FsObjectStore;
  let events: S3Event[];
  let published: BusEvent[];
  let handler: ReturnType<typeof makeHandler>;
  let warehouse: DuckDbWarehouse;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-'));
    events = [];
    published = [];
    store = new FsObjectStore({ root: path.join(home, 'lake'), onObjectCreated: (e) => events.push(e) });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    const bus: EventBus = { publish: async (event) => void published.push(event) };
    handler = makeHandler({ store, warehouse, bus, clock: systemClock });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('waits while the attribute parts do not cover the manifest', async () => {
    await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4']);
    await store.delete(lakeKeys.attributesCsv(day.chartDate, day.chartId, partName(['t3', 't4'])));
    const decisions = await handler(events.at(-1)!, localContext('stage-loader'));
    expect(decisions).toEqual([{ outcome: 'incomplete', day, missing: 2 }]);
    expect(published).toHaveLength(0);
  });

  it('loads exactly once for 20 concurrent ObjectCreated events of a complete day', async () => {
    await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4']);
    const all = events.slice();
    const burst = Array.from({ length: 20 }, (_, i) => all[i % all.length]!);
    const decisions = (await Promise.all(burst.map((e) => handler(e, localContext('stage-loader'))))).flat();
    expect(decisions.filter((d) => d.outcome === 'loaded')).toHaveLength(1);
    expect(decisions.filter((d) => d.outcome === 'already_claimed')).toHaveLength(19);
    expect(published).toHaveLength(1);
    const [row] = await warehouse.query<{ n: number }>('select count(*) as n from stage.chart_songs');
    expect(row!.n).toBe(4);
  });

  it('ignores parts of an earlier run of the same day and loads the new run once it is complete', async () => {
    await landDay(store, 'run-000001', ['t1', 't2', 't3', 't4']);
    await handler(events.at(-1)!, localContext('stage-loader'));
    // A second run rewrites the chart and manifest; its attributes are not there yet.
    await store.put(
      lakeKeys.chartCsv(day.chartDate, day.chartId),
      toStageCsv('chart_songs', [
        {
          ...lineage('run-000002'),
          position: 1,
          track_id: 't9',
          track_name: 'x',
          artist_names: 'a',
          source: 't',
        },
      ]),
    );
    await store.put(
      lakeKeys.manifest(day.chartDate, day.chartId),
      JSON.stringify({
        runId: 'run-000002',
        ...day,
        source: 't',
        extractedAt: '2026-11-21T07:00:00.000Z',
        trackIds: ['t9'],
        skipped: [],
      }),
    );
    expect(await handler(events.at(-1)!, localContext('stage-loader'))).toEqual([
      { outcome: 'incomplete', day, missing: 1 },
    ]);
  });

  it('refuses an event that is not an S3 event, naming what is wrong', async () => {
    await expect(handler({ Records: [{ nope: true }] }, localContext('stage-loader'))).rejects.toThrow(
      /^S3 event: ✖ .* → at Records\[0\]\./,
    );
  });
});
