import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { MissingBacklog } from '../../shared/lake/backlog.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { lakeKeys, tablePrefix } from '../../shared/lake/keys.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { roleAllows } from '../support/iam-policy.js';
import type { StoreAccess } from '../support/recording-store.js';
import { packageServerless } from '../support/serverless-template.js';
import { postgresAvailable } from '../support/services.js';

const available = motoAvailable();
const chartId = 'global';
const days = ['2026-09-14', '2026-09-15'];
const poisonDay = '2026-10-20';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe.skipIf(!available)('End to end through the AWS adapters (moto, PostgreSQL, local dbt)', () => {
  let moto: Moto;
  let aws: AwsPipeline | undefined;
  let embedded: TestPipeline | undefined;
  let poisoned: AwsPipeline | undefined;
  const records: { what: string; records: RunRecord[] }[] = [];
  const embeddedSummaries: RunSummary[] = [];
  let objectsReplayed = 0;
  let poison = '';
  let poisonRecords: RunRecord[] = [];

  beforeAll(async () => {
    if (!(await postgresAvailable())) return;
    const started = performance.now();
    moto = await startMoto();
    [aws, embedded, poisoned] = await Promise.all([
      AwsPipeline.start({ moto, label: 'e2e_aws' }),
      startTestPipeline({ label: 'e2e-aws-twin' }),
      AwsPipeline.start({
        moto,
        label: 'e2e_aws_poison',
        // A batch that bisects around the poison id takes a few seconds: the visibility timeout
        // outlasts it, or SQS would deliver the whole batch again while it runs.
        trackQueue: { visibilityTimeoutSeconds: 8, maxReceiveCount: 3 },
        retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20, maxInlineWaitMs: 1_000 },
      }),
    ]);
    // The same two days and the same replay through the AWS adapters and on the embedded pipeline,
    // and the poisoned day beside them.
    await Promise.all([
      (async () => {
        let at = performance.now();
        const lap = (what: string, record: RunRecord | undefined) => {
          const now = performance.now();
          console.info(`AWS adapters, ${what}: ${seconds(now - at)} (${JSON.stringify(record?.timings)})`);
          at = now;
        };
        for (const chartDate of days) {
          const { records: dayRecords } = await aws!.run({ chartId, chartDate });
          records.push({ what: `run ${chartDate}`, records: dayRecords });
          lap(`run ${chartDate}`, dayRecords.at(-1));
        }
        const replayed = await aws!.replay({ chartId, chartDate: days[0]! });
        objectsReplayed = replayed.replay.objectsReplayed;
        records.push({ what: `replay ${days[0]}`, records: replayed.records });
        lap(`replay ${days[0]}`, replayed.records.at(-1));
      })(),
      (async () => {
        for (const chartDate of days)
          embeddedSummaries.push(await embedded!.pipeline.run({ chartId, chartDate }));
        const { days: replayed } = await embedded!.pipeline.replay({ chartId, chartDate: days[0]! });
        embeddedSummaries.push(...replayed);
        console.info(`Embedded: two days and a replay in ${seconds(performance.now() - started)}`);
      })(),
      (async () => {
        poison = poisoned!.sandbox.catalog.chartFor(chartId, poisonDay)[7]!;
        // Every source of its attributes fails for it, so no fallback can fill in.
        poisoned!.sandbox.faults.failTrackLookups([poison]);
        poisoned!.sandbox.faults.failTrackLookups([poison], { provider: 'reccobeats' });
        ({ records: poisonRecords } = await poisoned!.run({ chartId, chartDate: poisonDay }));
        console.info(`AWS adapters, poisoned day: ${seconds(performance.now() - started)}`);
      })(),
    ]);
    console.info(`All runs: ${seconds(performance.now() - started)}`);
  }, 360_000);
  afterAll(async () => {
    await Promise.all([aws?.close(), embedded?.stop(), poisoned?.close()]);
    await moto?.stop();
  });

  describe('two sandbox days and a replay of the first', () => {
    it('runs both days and the replay to success: every run record final and succeeded', (context) => {
      if (!aws) return context.skip();
      const [day1, day2, replay] = records;
      expect(day1!.records.map((r) => r.status)).toEqual(['succeeded']);
      expect(day2!.records.map((r) => r.status)).toEqual(['succeeded']);
      // The replay reloads day 1 from the lake: a second load of the same run, transformed again.
      expect(replay!.records.map((r) => [r.runId, r.status])).toEqual([
        [day1!.records[0]!.runId, 'succeeded'],
        [day1!.records[0]!.runId, 'succeeded'],
      ]);
      expect(objectsReplayed).toBeGreaterThan(3);
      for (const record of records.flatMap((r) => r.records)) {
        expect(record.rows.chart_songs).toBe(200);
        expect(record.checks.every((c) => c.passed)).toBe(true);
        expect(record.transform?.finishedAt).toBeDefined();
      }
      expect(aws.failures).toEqual([]);
      expect(aws.invoker.failures).toEqual([]);
      expect(embeddedSummaries.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    });

    it('hands stage-loader the events S3 sends: Put for new objects, Copy for the replay', (context) => {
      if (!aws) return context.skip();
      expect(new Set(aws.s3EventNames)).toEqual(new Set(['ObjectCreated:Put', 'ObjectCreated:Copy']));
      expect(aws.s3EventNames.filter((n) => n === 'ObjectCreated:Copy')).toHaveLength(objectsReplayed);
    });

    it('leaves the stage, the track DLQ and every other queue empty', async (context) => {
      if (!aws) return context.skip();
      expect(await stageRows(aws.warehouse)).toBe(0);
      expect(await aws.depths()).toEqual({
        trackQueueUrl: 0,
        trackDeadLetterQueueUrl: 0,
        lakeEventsQueueUrl: 0,
        lakeEventsDeadLetterQueueUrl: 0,
        transformQueueUrl: 0,
        transformDeadLetterQueueUrl: 0,
        inboxEventsQueueUrl: 0,
        // No asynchronous invocation failed for good.
        asyncFailureQueueUrl: 0,
      });
    });

    it('reads the Spotify credentials from Secrets Manager, and never writes them to the lake', async (context) => {
      if (!aws) return context.skip();
      expect(aws.secretReads).toBeGreaterThanOrEqual(1);
      const { clientId, clientSecret } = aws.sandbox.credentials;
      const objects = await aws.store.list('');
      expect(objects.length).toBeGreaterThan(10);
      const holding: string[] = [];
      for (const { key } of objects) {
        const body = (await aws.store.get(key))!.toString('utf8');
        if (body.includes(clientSecret) || body.includes(clientId)) holding.push(key);
      }
      expect(holding).toEqual([]);
    });

    it('builds on PostgreSQL exactly the marts of the embedded run (DuckDB), audit columns aside', async (context) => {
      if (!aws || !embedded) return context.skip();
      const onAws = await martSnapshot(aws.warehouse);
      expect(onAws.fct_chart_entries).toHaveLength(400);
      expect(Object.keys(onAws).length).toBeGreaterThanOrEqual(3);
      expect(onAws).toEqual(await martSnapshot(embedded.pipeline.warehouse));
    });
  });

  describe('a track whose lookups fail at both providers', () => {
    it('is delivered once and never dead-lettered: no provider answering is no reason for the DLQ', async (context) => {
      if (!poisoned) return context.skip();
      expect(poisoned.trackDeliveries.filter((d) => d.trackId === poison).map((d) => d.receiveCount)).toEqual(
        [1],
      );
      expect(await poisoned.peek(poisoned.resources.trackDeadLetterQueueUrl)).toEqual([]);
      expect(await poisoned.queueDepth(poisoned.resources.trackQueueUrl)).toBe(0);
    });

    it('is written to the lake as missing, with a provider_error reason, and kept in the backlog', async (context) => {
      if (!poisoned) return context.skip();
      const parts = await poisoned.store.list(tablePrefix('song_attributes', poisonDay, chartId));
      const rows: Record<string, string | null>[] = [];
      for (const { key } of parts) {
        const body = (await poisoned.store.get(key))!.toString('utf8');
        rows.push(...fromStageCsv('song_attributes', body, key).filter((row) => row.track_id === poison));
      }
      expect(rows.map((r) => [r.enrichment_status, r.missing_reason])).toEqual([
        ['missing', expect.stringMatching(/^provider_error: .*HTTP 500/)],
      ]);
      const backlog = await new MissingBacklog(poisoned.store).list({ chartDate: poisonDay, chartId });
      expect(backlog.map((e) => e.trackId)).toEqual([poison]);
    });

    it('still completes its day, with the track charted and only it without metadata', async (context) => {
      if (!poisoned) return context.skip();
      expect(poisonRecords.map((r) => r.status)).toEqual(['succeeded']);
      const size = poisoned.sandbox.catalog.chartFor(chartId, poisonDay).length;
      expect(poisonRecords[0]!.rows.chart_songs).toBe(size);
      const [fact] = await poisoned.warehouse.query<{ position: number }>(
        'select position from marts.fct_chart_entries where track_id = :id',
        { id: poison },
      );
      expect(fact?.position).toBe(8);
      const bare = await poisoned.warehouse.query<{ track_id: string }>(
        'select track_id from marts.dim_tracks where metadata_source is null',
      );
      expect(bare).toEqual([{ track_id: poison }]);
      expect(await stageRows(poisoned.warehouse)).toBe(0);
    });
  });

  describe("each function's requests of the lake, against its role in the compiled template", () => {
    it('are all allowed, and no role may write where its function does not', async (context) => {
      if (!aws || !poisoned) return context.skip();
      const { dir, template } = await packageServerless('test');
      try {
        const accesses = [...aws.storeAccesses, ...poisoned.storeAccesses];
        const seen = new Map<string, StoreAccess>();
        // A key's kind: its ids, dates and parts made alike, so that each kind is shown once.
        for (const access of accesses) {
          const kind = access.key.replace(/=[^/]+/g, '=…').replace(/[^/]+\.(json|csv|manifest)$/, '*.$1');
          seen.set(`${access.role} ${access.action} ${kind}`, access);
        }
        console.info(`lake requests by role and kind:\n  ${[...seen.keys()].sort().join('\n  ')}`);
        const refused = [...seen.entries()]
          .filter(([, access]) => !roleAllows(template.Resources[access.role]!, access))
          .map(([kind]) => kind);
        expect(refused).toEqual([]);
        // Every function's role was exercised, and Redshift's COPY role read the files.
        expect(new Set(accesses.map((a) => a.role))).toEqual(
          new Set([
            'ChartFetchRole',
            'TrackAttributesRole',
            'WarehouseRole',
            'ReplayRole',
            'RedshiftCopyRole',
          ]),
        );
        // The check can refuse: raw data is written by the functions that land it, and only by them.
        const rawWrite = (role: string, key: string) =>
          roleAllows(template.Resources[role]!, { role, action: 's3:PutObject', key });
        const chartCsv = lakeKeys.chartCsv(days[0]!, chartId);
        const attributes = lakeKeys.attributesCsv(days[0]!, chartId, 'part-0');
        const artists = lakeKeys.artistsCsv(days[0]!, chartId, 'part-0');
        const marker = lakeKeys.partMarker(days[0]!, chartId, 'run-1', 'part-0', '0'.repeat(16), '1');
        expect(rawWrite('ChartFetchRole', chartCsv)).toBe(true);
        expect(rawWrite('ChartFetchRole', lakeKeys.manifest(days[0]!, chartId))).toBe(true);
        expect(rawWrite('ChartFetchRole', attributes)).toBe(false);
        expect(rawWrite('TrackAttributesRole', attributes)).toBe(true);
        expect(rawWrite('TrackAttributesRole', artists)).toBe(true);
        expect(rawWrite('TrackAttributesRole', marker)).toBe(true);
        expect(rawWrite('TrackAttributesRole', chartCsv)).toBe(false);
        expect(rawWrite('WarehouseRole', chartCsv)).toBe(false);
        expect(rawWrite('WarehouseRole', attributes)).toBe(false);
        expect(rawWrite('RedshiftCopyRole', chartCsv)).toBe(false);
        expect(rawWrite('ChartFetchRole', artists)).toBe(false);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 300_000);
  });
});
