import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { MemoryQueue } from '../../../infra/adapters/embedded/memory-queue.js';
import { InvalidRecordError, PermanentError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { fromStageCsv } from '../../../shared/records/csv.js';
import { manifestSchema, trackMessageSchema } from '../../../shared/records/messages.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { ChartSnapshot, ChartSource } from '../../../services/chart-fetch/sources/chart-source.js';
import { makeHandler } from '../../../services/chart-fetch/handler.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { s3EventFactory } from '../../support/factories.js';
import {
  currentChartsCsv,
  fakeTrackId,
  legacyChartsCsv,
  type ChartsCsvRowSpec,
} from './sources/spotify-charts-csv-files.js';

const clock: Clock = { now: () => new Date('2024-05-02T06:00:00.000Z'), sleep: async () => undefined };

const rows: ChartsCsvRowSpec[] = [
  {
    trackId: fakeTrackId(1),
    trackName: 'Love, Actually, Again',
    artistNames: 'Tyler, the Lighthouse',
    streams: 3_100_200,
  },
  {
    trackId: fakeTrackId(2),
    trackName: 'She Said "Never"',
    artistNames: 'DJ "Snake Eyes"',
    streams: 2_900_001,
  },
  {
    trackId: fakeTrackId(3),
    trackName: 'Line One\r\nLine Two',
    artistNames: '\u200Fفرقة القمر',
    streams: null,
  },
  { trackId: fakeTrackId(4), trackName: 'Rockstar 👩‍🎤', artistNames: '🌈 Rainbow Kid', streams: 1_000_000 },
];

/** A playlist-like source, to show that the scheduled path lands as it did. */
const stubSource = (snapshot: ChartSnapshot): ChartSource => ({ fetch: async () => snapshot });

describe('Function: chart-fetch handler', () => {
  let home: string;
  let store: FsObjectStore;
  let queue: MemoryQueue;
  let handler: ReturnType<typeof makeHandler>;
  const snapshot: ChartSnapshot = {
    source: 'spotify-playlist:abc',
    entries: [{ position: 1, trackId: fakeTrackId(9), trackName: 'P', artistNames: 'Q', streams: null }],
    skipped: [],
    raw: [{ items: ['as received'] }],
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-chart-fetch-'));
    store = new FsObjectStore({ root: home });
    queue = new MemoryQueue({ name: 'chartflow-tracks-test' });
    handler = makeHandler({ store, queue, clock, source: stubSource(snapshot), charts: ['global'] });
  });
  afterEach(async () => {
    queue.stop();
    await rm(home, { recursive: true, force: true });
  });

  const invoke = (event: unknown) => handler(event, localContext('chart-fetch'));
  const text = async (key: string) => (await store.get(key))?.toString('utf8');
  const rawKeys = async () => (await store.list('raw/')).map((o) => o.key);
  const tableKeys = async () => (await store.list('tables/')).map((o) => o.key);

  describe('on a file dropped into the inbox', () => {
    const name = 'regional-global-daily-2024-05-01.csv';
    const day = { chartId: 'global-daily', chartDate: '2024-05-01' };

    it('lands the file as the day of its chart: the file as received, the chart with streams, the manifest, a message per track', async () => {
      const body = Buffer.from(currentChartsCsv(rows), 'utf8');
      await store.put(lakeKeys.inboxChart(name), body);

      const [result] = await invoke(s3EventFactory(lakeKeys.inboxChart(name)));

      expect(result).toMatchObject({ ...day, entries: 4, skipped: 0, inboxKey: `inbox/charts/${name}` });
      expect(await store.get(lakeKeys.chartSourceFile(day.chartDate, day.chartId))).toEqual(body);
      const chart = fromStageCsv('chart_songs', (await text(lakeKeys.chartCsv(day.chartDate, day.chartId)))!);
      expect(chart).toEqual(
        rows.map((row, i) => ({
          chart_id: 'global-daily',
          chart_date: '2024-05-01',
          run_id: result!.runId,
          extracted_at: '2024-05-02 06:00:00.000',
          position: String(i + 1),
          track_id: row.trackId,
          track_name: row.trackName,
          artist_names: row.artistNames,
          streams: row.streams === null ? null : String(row.streams),
          source: `spotify-charts-csv:${name}`,
        })),
      );
      const manifest = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest(day.chartDate, day.chartId)))!),
      );
      expect(manifest).toMatchObject({
        ...day,
        runId: result!.runId,
        source: `spotify-charts-csv:${name}`,
        trackIds: rows.map((r) => r.trackId),
        skipped: [],
      });
      const messages = queue.peek().map((m) => trackMessageSchema.parse(JSON.parse(m.body)));
      expect(messages).toEqual(rows.map((r) => ({ ...day, runId: result!.runId, trackId: r.trackId })));
      expect(await rawKeys()).toEqual([
        'raw/chart_songs/date=2024-05-01/chart=global-daily/manifest.json',
        'raw/chart_songs/date=2024-05-01/chart=global-daily/source-file.csv',
      ]);
      expect(await tableKeys()).toEqual([
        'tables/chart_songs/date=2024-05-01/chart=global-daily/chart_songs.csv',
      ]);
    });

    it('quarantines the invalid rows with their reason and cells, reports every skipped row, and lands the rest', async () => {
      const withBadRows = [
        rows[0]!,
        { ...rows[1]!, link: '' },
        rows[2]!,
        rows[0]!,
        { ...rows[3]!, rank: 'x' },
      ];
      await store.put(lakeKeys.inboxChart(name), currentChartsCsv(withBadRows));

      const [result] = await invoke(s3EventFactory(lakeKeys.inboxChart(name)));

      expect(result).toMatchObject({ entries: 2, skipped: 3 });
      const manifest = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest(day.chartDate, day.chartId)))!),
      );
      expect(manifest.trackIds).toEqual([rows[0]!.trackId, rows[2]!.trackId]);
      expect(manifest.skipped).toEqual([
        { position: 2, reason: 'invalid row: uri: not a spotify:track:<22-character id> URI' },
        { position: 4, reason: `duplicate of ${rows[0]!.trackId}: its first position is kept` },
        { position: 5, reason: 'invalid row: rank: not a positive whole number' },
      ]);
      // Duplicates are reported, not quarantined: nothing is wrong with the row itself.
      const quarantined = await store.list('quarantine/chart_songs/date=2024-05-01/chart=global-daily/');
      expect(quarantined.map((o) => o.key.split('/').at(-1))).toEqual([
        `${result!.runId}-position-2.json`,
        `${result!.runId}-position-5.json`,
      ]);
      const record = JSON.parse((await text(quarantined[0]!.key))!);
      expect(record).toMatchObject({
        reason: 'invalid row: uri: not a spotify:track:<22-character id> URI',
        runId: result!.runId,
        raw: { file: name, row: 2, header: expect.arrayContaining(['uri']) },
      });
      expect(record.raw.cells[3]).toBe(rows[1]!.trackName);
    });

    it('reads an older-format file in a sub-folder of the inbox, from a key S3 encoded', async () => {
      const key = 'inbox/charts/2020 backfill/regional-us-weekly-2020-01-03--2020-01-10.csv';
      await store.put(key, legacyChartsCsv(rows));

      const [result] = await invoke(
        s3EventFactory(key, 'raw/chart_songs/date=2020-01-09/chart=x/manifest.json'),
      );

      expect(result).toMatchObject({
        chartId: 'us-weekly',
        chartDate: '2020-01-09',
        entries: 4,
        inboxKey: key,
      });
      const chart = fromStageCsv('chart_songs', (await text(lakeKeys.chartCsv('2020-01-09', 'us-weekly')))!);
      expect(chart.map((r) => [r.track_name, r.streams])).toEqual(
        rows.map((r) => [r.trackName, r.streams === null ? null : String(r.streams)]),
      );
    });

    it('joins the batch its folder names (chartflow ingest --target aws); a file dropped on its own joins none', async () => {
      const batchId = '20261122T100000000Z-0a1b2c3d';
      await store.put(lakeKeys.inboxBatchChart(batchId, name), Buffer.from(currentChartsCsv(rows), 'utf8'));
      await invoke(s3EventFactory(lakeKeys.inboxBatchChart(batchId, name)));
      const manifest = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest(day.chartDate, day.chartId)))!),
      );
      expect(manifest.batchId).toBe(batchId);

      await store.put(lakeKeys.inboxChart(name), Buffer.from(currentChartsCsv(rows), 'utf8'));
      await invoke(s3EventFactory(lakeKeys.inboxChart(name)));
      const alone = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest(day.chartDate, day.chartId)))!),
      );
      expect(alone.batchId).toBeUndefined();
    });

    it('refuses a batch folder whose name is no batch id, naming the key', async () => {
      const key = `inbox/charts/batch=not an id/${name}`;
      await store.put(key, Buffer.from(currentChartsCsv(rows), 'utf8'));
      await expect(invoke(s3EventFactory(key))).rejects.toThrow(InvalidRecordError);
      await expect(invoke(s3EventFactory(key))).rejects.toThrow(/batch=not an id.*its batch/);
      expect(await text(lakeKeys.manifest(day.chartDate, day.chartId))).toBeUndefined();
    });

    it('ignores objects outside the inbox', async () => {
      expect(
        await invoke(s3EventFactory('raw/chart_songs/date=2024-05-01/chart=global/manifest.json')),
      ).toEqual([]);
      expect(await rawKeys()).toEqual([]);
    });

    it.each([
      [
        'a name that is not a chart file',
        'top-50.csv',
        currentChartsCsv(rows),
        /"top-50\.csv" is not named as a Spotify Charts file/,
      ],
      [
        'a latest file (the inbox holds dated names only)',
        'regional-global-daily-latest.csv',
        currentChartsCsv(rows),
        /is the latest chart and its name has no day/,
      ],
      [
        'an unknown header',
        name,
        'Position,Track,Artist\n1,a,b\n',
        /"regional-global-daily-2024-05-01\.csv" is not a Spotify Charts file: its header is "Position,Track,Artist"/,
      ],
    ])('refuses %s, naming the file, and writes nothing', async (_, fileName, body, message) => {
      await store.put(lakeKeys.inboxChart(fileName), body);

      const failure = invoke(s3EventFactory(lakeKeys.inboxChart(fileName)));

      await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(failure).rejects.toThrow(message);
      expect(await rawKeys()).toEqual([]);
      expect(queue.peek()).toEqual([]);
    });

    it('refuses a file with no usable row', async () => {
      await store.put(lakeKeys.inboxChart(name), currentChartsCsv([{ ...rows[0]!, link: 'spotify:track:' }]));

      await expect(invoke(s3EventFactory(lakeKeys.inboxChart(name)))).rejects.toThrow(
        /spotify-charts-csv:regional-global-daily-2024-05-01\.csv has no usable tracks/,
      );
      expect(await rawKeys()).toEqual([]);
    });

    it('says so when the object is gone by the time its event arrives', async () => {
      await expect(invoke(s3EventFactory(lakeKeys.inboxChart(name)))).rejects.toBeInstanceOf(PermanentError);
    });
  });

  describe('on a direct invocation', () => {
    it('lands the source answer as JSON next to the chart, as before', async () => {
      const [result] = await invoke({ chartId: 'global', chartDate: '2024-05-01' });

      expect(result).toMatchObject({ chartId: 'global', chartDate: '2024-05-01', entries: 1 });
      expect(JSON.parse((await text(lakeKeys.chartRaw('2024-05-01', 'global')))!)).toEqual(snapshot.raw);
      expect(await rawKeys()).toEqual([
        'raw/chart_songs/date=2024-05-01/chart=global/manifest.json',
        'raw/chart_songs/date=2024-05-01/chart=global/source-response.json',
      ]);
      expect(await tableKeys()).toEqual(['tables/chart_songs/date=2024-05-01/chart=global/chart_songs.csv']);
    });

    it("writes a backfill's batch into the manifest, so that the day's load waits for the batch", async () => {
      const batchId = '20240502T060000000Z-0000beef';
      await invoke({ chartId: 'global', chartDate: '2024-05-01', batchId });
      const manifest = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest('2024-05-01', 'global')))!),
      );
      expect(manifest.batchId).toBe(batchId);

      await invoke({ chartId: 'global', chartDate: '2024-05-01' });
      const alone = manifestSchema.parse(
        JSON.parse((await text(lakeKeys.manifest('2024-05-01', 'global')))!),
      );
      expect(alone.batchId).toBeUndefined();
    });

    it('refuses a batch id that is not one', async () => {
      await expect(
        invoke({ chartId: 'global', chartDate: '2024-05-01', batchId: '../x' }),
      ).rejects.toBeInstanceOf(InvalidRecordError);
    });

    it('refuses an unknown field, naming it', async () => {
      await expect(invoke({ chartDate: '2024-05-01', chart: 'global' })).rejects.toThrow(
        /^chart-fetch event: ✖ Unrecognized key: "chart"/,
      );
    });
  });

  describe('on the daily schedule', () => {
    /** An EventBridge scheduled rule's event, after the example in the EventBridge documentation. */
    const scheduledEvent = (time: string) => ({
      version: '0',
      id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time,
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/chartflow-prod-chartFetch'],
      detail: {},
    });

    it('fetches every configured chart for the day of its time', async () => {
      const results = await invoke(scheduledEvent('2024-05-02T06:00:00Z'));

      expect(results).toMatchObject([{ chartId: 'global', chartDate: '2024-05-02', entries: 1 }]);
      expect(await rawKeys()).toContain('raw/chart_songs/date=2024-05-02/chart=global/manifest.json');
    });

    it('refuses a scheduled event that is malformed, naming the field, and fetches nothing', async () => {
      const failure = invoke(scheduledEvent('yesterday'));

      await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(failure).rejects.toThrow(
        /^chart-fetch scheduled event: ✖ Invalid ISO datetime → at time$/,
      );
      expect(await rawKeys()).toEqual([]);
    });
  });

  describe('on an S3 event', () => {
    it('refuses a record that S3 would not send, naming the field', async () => {
      const event = s3EventFactory(lakeKeys.inboxChart('regional-global-daily-2024-05-01.csv'));
      const { eventTime: _eventTime, ...withoutTime } = event.Records[0]!;

      const failure = invoke({ Records: [withoutTime] });

      await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(failure).rejects.toThrow(
        /^S3 event: ✖ Invalid input: expected string, received undefined → at Records\[0\]\.eventTime$/,
      );
    });
  });
});
