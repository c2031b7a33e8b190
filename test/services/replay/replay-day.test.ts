import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/replay/handler.js';
import { replayDay } from '../../../services/replay/replay-day.js';
import { decodeS3Key } from '../../../shared/events/s3-keys.js';
import { lakeKeys, legacyLakeKeys } from '../../../shared/lake/keys.js';

/** The replay service on the folder store: what it resets, what it announces, what it leaves. */
describe('Function: replay', () => {
  let home: string;
  let store: FsObjectStore;
  let announced: { key: string; eventName: string }[];

  /** A day of a chart as the lake keeps it: raw chart and part, a claim, a run record. */
  const part = 'part-0123456789abcdef';
  const landed = async (chartDate: string, chartId: string) => {
    await store.put(lakeKeys.chartRaw(chartDate, chartId), `answer for ${chartId} ${chartDate}`);
    await store.put(lakeKeys.chartCsv(chartDate, chartId), `chart of ${chartId} ${chartDate}\n`);
    await store.put(lakeKeys.manifest(chartDate, chartId), `{"day":"${chartDate}"}`);
    await store.put(lakeKeys.attributesRaw(chartDate, chartId, part), '{}');
    await store.put(lakeKeys.attributesCsv(chartDate, chartId, part), 'track_id\nt1\n');
    await store.put(lakeKeys.claim(chartDate, chartId, 'run-000001'), '{}');
    await store.put(lakeKeys.runRecord(chartDate, chartId, 'run-000001', 'load-000001'), '{}');
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-replay-'));
    announced = [];
    store = new FsObjectStore({
      root: path.join(home, 'lake'),
      onObjectCreated: (event: S3Event) =>
        announced.push(
          ...event.Records.map((r) => ({ key: decodeS3Key(r.s3.object.key), eventName: r.eventName })),
        ),
    });
    await landed('2026-11-20', 'global');
    await landed('2026-11-20', 'br');
    await landed('2026-11-21', 'global');
    announced = [];
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it("resets the day's claims and announces each of its raw objects again, as a copy onto itself", async () => {
    const before = await store.get(lakeKeys.chartRaw('2026-11-20', 'global'));
    const result = await replayDay({ chartDate: '2026-11-20' }, store);

    expect(result).toEqual({ claimsReset: 2, objectsReplayed: 6 });
    expect(await store.list(lakeKeys.claimsPrefix('2026-11-20'))).toEqual([]);
    // The CSVs under tables/ are not announced: an ObjectCreated there fires nothing.
    expect(announced.map((a) => a.key).sort()).toEqual(
      ['global', 'br']
        .flatMap((chart) => [
          lakeKeys.chartRaw('2026-11-20', chart),
          lakeKeys.manifest('2026-11-20', chart),
          lakeKeys.attributesRaw('2026-11-20', chart, part),
        ])
        .sort(),
    );
    expect(new Set(announced.map((a) => a.eventName))).toEqual(new Set(['ObjectCreated:Copy']));
    // Raw data is only read: the same bytes.
    expect(await store.get(lakeKeys.chartRaw('2026-11-20', 'global'))).toEqual(before);
  });

  it('announces the CSVs of a day written before the tables/ layout, which sit under raw/', async () => {
    const legacy = [
      legacyLakeKeys.chartCsv('2026-11-22', 'global'),
      legacyLakeKeys.attributesCsv('2026-11-22', 'global', part),
      legacyLakeKeys.artistsCsv('2026-11-22', 'global', part),
    ];
    for (const key of legacy) await store.put(key, 'track_id\nt1\n');
    await store.put(lakeKeys.manifest('2026-11-22', 'global'), '{}');
    announced = [];

    expect(await replayDay({ chartDate: '2026-11-22' }, store)).toEqual({
      claimsReset: 0,
      objectsReplayed: 4,
    });
    expect(announced.map((a) => a.key).sort()).toEqual(
      [...legacy, lakeKeys.manifest('2026-11-22', 'global')].sort(),
    );
  });

  it('keeps to one chart when told, and leaves other days, run records and control objects alone', async () => {
    const result = await replayDay({ chartDate: '2026-11-20', chartId: 'br' }, store);

    expect(result).toEqual({ claimsReset: 1, objectsReplayed: 3 });
    expect(announced.every((a) => a.key.includes('/chart=br/'))).toBe(true);
    expect((await store.list(lakeKeys.claimsPrefix('2026-11-20', 'global'))).map((o) => o.key)).toEqual([
      lakeKeys.claim('2026-11-20', 'global', 'run-000001'),
    ]);
    expect(await store.list(lakeKeys.claimsPrefix('2026-11-21'))).toHaveLength(1);
    expect(
      await store.get(lakeKeys.runRecord('2026-11-20', 'br', 'run-000001', 'load-000001')),
    ).toBeDefined();
  });

  it('replays a day the lake does not have as nothing to do', async () => {
    expect(await replayDay({ chartDate: '2026-01-01' }, store)).toEqual({
      claimsReset: 0,
      objectsReplayed: 0,
    });
    expect(announced).toEqual([]);
  });

  it('answers the CLI through its handler, and refuses an event that names no day', async () => {
    const handler = makeHandler({ store });
    await expect(handler({ chartDate: '2026-11-21' }, localContext('replay'))).resolves.toEqual({
      claimsReset: 1,
      objectsReplayed: 3,
    });
    await expect(handler({ chartId: 'global' }, localContext('replay'))).rejects.toThrow(
      /replay event.*chartDate/,
    );
  });
});
