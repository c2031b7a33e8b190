import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { MemoryQueue } from '../../../infra/adapters/embedded/memory-queue.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { fetchChartFile } from '../../../services/chart-fetch/fetch-chart-file.js';
import { makeHandler } from '../../../services/chart-fetch/handler.js';
import type { ChartSnapshot, ChartSource } from '../../../services/chart-fetch/sources/chart-source.js';
import { PermanentError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { maxKeyedTracks } from '../../../shared/lake/part-markers.js';
import { logger } from '../../../shared/logger.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { PutOptions } from '../../../shared/ports/object-store.js';
import { manifestSchema } from '../../../shared/records/messages.js';
import { s3EventFactory } from '../../support/factories.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';
import { currentChartsCsv, fakeTrackId } from './sources/spotify-charts-csv-files.js';

const clock: Clock = { now: () => new Date('2024-05-02T06:00:00.000Z'), sleep: async () => undefined };

/** The folder store, keeping the content type each write asked for, as S3 keeps it. */
class ContentTypeStore extends FsObjectStore {
  readonly contentTypes = new Map<string, string | undefined>();
  override async put(key: string, body: string | Uint8Array, options?: PutOptions) {
    this.contentTypes.set(key, options?.contentType);
    return super.put(key, body);
  }
}

const entries = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    position: i + 1,
    trackId: fakeTrackId(i + 1),
    trackName: `t${i}`,
    artistNames: 'a',
    streams: null,
  }));

/** A source answering the given entries, one invalid entry skipped, and putting a key straight on the logger. */
const sourceOf = (n: number): ChartSource => ({
  fetch: async (): Promise<ChartSnapshot> => {
    logger.appendKeys({ sourcePage: '1' });
    logger.info('source read');
    return {
      source: 'spotify-playlist:abc',
      entries: entries(n),
      skipped: [{ position: n + 1, reason: 'invalid entry: no track', raw: { track: null } }],
      raw: [{ items: ['as received'] }],
    };
  },
});

describe('chart-fetch: what it lands, and the lines it writes', () => {
  let home: string;
  let store: ContentTypeStore;
  let queue: MemoryQueue;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-chart-landing-'));
    store = new ContentTypeStore({ root: home });
    queue = new MemoryQueue({ name: 'chartflow-tracks-test' });
  });
  afterEach(async () => {
    queue.stop();
    await rm(home, { recursive: true, force: true });
  });

  const handler = (n = 2) => makeHandler({ store, queue, clock, source: sourceOf(n), charts: ['global'] });
  const manifestOf = async (chartDate: string, chartId: string) =>
    manifestSchema.parse(
      JSON.parse((await store.get(lakeKeys.manifest(chartDate, chartId)))!.toString('utf8')),
    );

  it("fetches today's chart (the clock's UTC day) when a direct event names no day", async () => {
    const [result] = await handler()({ chartId: 'global' }, localContext('chart-fetch'));
    expect(result).toMatchObject({ chartId: 'global', chartDate: '2024-05-02' });
    expect(await store.get(lakeKeys.manifest('2024-05-02', 'global'))).toBeDefined();
  });

  it('writes each file with its content type: JSON for the answer, the manifest and quarantine, CSV for the chart', async () => {
    const [result] = await handler()(
      { chartId: 'global', chartDate: '2024-05-01' },
      localContext('chart-fetch'),
    );
    const quarantine = lakeKeys.quarantine(
      'chart_songs',
      '2024-05-01',
      'global',
      `${result!.runId}-position-3`,
    );
    expect(Object.fromEntries(store.contentTypes)).toEqual({
      [lakeKeys.chartRaw('2024-05-01', 'global')]: 'application/json',
      [quarantine]: 'application/json',
      [lakeKeys.chartCsv('2024-05-01', 'global')]: 'text/csv',
      [lakeKeys.manifest('2024-05-01', 'global')]: 'application/json',
    });
  });

  it("writes a dropped file's copy as CSV", async () => {
    const name = 'regional-global-daily-2024-05-01.csv';
    await store.put(
      lakeKeys.inboxChart(name),
      currentChartsCsv([{ trackId: fakeTrackId(1), trackName: 'a', artistNames: 'b', streams: 1 }]),
    );
    await handler()(s3EventFactory(lakeKeys.inboxChart(name)), localContext('chart-fetch'));
    expect(store.contentTypes.get(lakeKeys.chartSourceFile('2024-05-01', 'global-daily'))).toBe('text/csv');
  });

  it("lists the answer and the chart in the manifest, with the chart CSV's md5 (its ETag) up to maxKeyedTracks entries", async () => {
    await handler(maxKeyedTracks)(
      { chartId: 'global', chartDate: '2024-05-01' },
      localContext('chart-fetch'),
    );
    const chartCsv = (await store.get(lakeKeys.chartCsv('2024-05-01', 'global')))!;
    const manifest = await manifestOf('2024-05-01', 'global');
    expect(manifest.chartCsvMd5).toBe(createHash('md5').update(chartCsv).digest('hex'));
    expect(manifest.files?.map((f) => [f.key, f.rows])).toEqual([
      [lakeKeys.chartRaw('2024-05-01', 'global'), null],
      [lakeKeys.chartCsv('2024-05-01', 'global'), maxKeyedTracks],
    ]);
  });

  it('leaves the md5 out of the manifest of a longer chart, which the loader decides by reading its files', async () => {
    await handler(maxKeyedTracks + 1)(
      { chartId: 'global', chartDate: '2024-05-01' },
      localContext('chart-fetch'),
    );
    const manifest = await manifestOf('2024-05-01', 'global');
    expect(manifest).not.toHaveProperty('chartCsvMd5');
    expect(manifest.files?.map((f) => [f.key, f.rows])).toEqual([
      [lakeKeys.chartRaw('2024-05-01', 'global'), null],
      [lakeKeys.chartCsv('2024-05-01', 'global'), maxKeyedTracks + 1],
    ]);
  });

  it('logs each chart landed under its chart and day, and leaves no log key behind when the invocation ends', async () => {
    const lines = await captureLogLines(async () => {
      await handler()({ chartDate: '2024-05-01' }, localContext('chart-fetch'));
      logger.info('after the invocation');
    });
    const day = { chartId: 'global', chartDate: '2024-05-01' };
    expect(linesOf(lines, 'source read')).toEqual([expect.objectContaining(day)]);
    expect(linesOf(lines, 'chart landed')).toEqual([
      expect.objectContaining({ ...day, runId: expect.any(String), entries: 2, skipped: 1, sourcePage: '1' }),
    ]);
    const [after] = linesOf(lines, 'after the invocation');
    expect(after).toBeDefined();
    for (const key of ['chartId', 'chartDate', 'sourcePage']) expect(after).not.toHaveProperty(key);
  });

  it('logs each file landed from the inbox under its key, with its chart, day, run and counts', async () => {
    const name = 'regional-global-daily-2024-05-01.csv';
    await store.put(
      lakeKeys.inboxChart(name),
      currentChartsCsv([{ trackId: fakeTrackId(1), trackName: 'a', artistNames: 'b', streams: 1 }]),
    );
    const lines = await captureLogLines(() =>
      handler()(s3EventFactory(lakeKeys.inboxChart(name)), localContext('chart-fetch')),
    );
    expect(linesOf(lines, 'chart file landed')).toEqual([
      expect.objectContaining({
        inboxKey: lakeKeys.inboxChart(name),
        chartId: 'global-daily',
        chartDate: '2024-05-01',
        runId: expect.any(String),
        entries: 1,
        skipped: 0,
      }),
    ]);
  });

  describe('fetchChartFile', () => {
    const deps = () => ({ store, queue, clock });

    it('refuses a key outside the inbox, naming it and the inbox, and reads nothing', async () => {
      await store.put('raw/regional-global-daily-2024-05-01.csv', 'x');
      const failure = fetchChartFile('raw/regional-global-daily-2024-05-01.csv', deps());
      await expect(failure).rejects.toBeInstanceOf(PermanentError);
      await expect(failure).rejects.toThrow(
        'raw/regional-global-daily-2024-05-01.csv is not under the chart inbox (inbox/charts/)',
      );
    });

    it('says which file is gone when its event arrives after it was removed', async () => {
      const key = lakeKeys.inboxChart('regional-global-daily-2024-05-01.csv');
      const failure = fetchChartFile(key, deps());
      await expect(failure).rejects.toBeInstanceOf(PermanentError);
      await expect(failure).rejects.toThrow(`${key} is no longer in the lake`);
    });
  });
});
