import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/services.js';

const available = motoAvailable();
const chartId = 'global';
const days = ['2026-09-14', '2026-09-15'];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe.skipIf(!available)(
  'End to end through the AWS adapters: moto for S3, SQS, EventBridge and Secrets Manager, PostgreSQL, local dbt',
  () => {
    let moto: Moto;
    let aws: AwsPipeline | undefined;
    let embedded: TestPipeline | undefined;
    const records: { what: string; records: RunRecord[] }[] = [];
    const embeddedSummaries: RunSummary[] = [];
    let objectsReplayed = 0;

    beforeAll(async () => {
      if (!(await postgresAvailable())) return;
      const started = performance.now();
      moto = await startMoto();
      [aws, embedded] = await Promise.all([
        AwsPipeline.start({ moto, label: 'e2e_aws' }),
        startTestPipeline({ label: 'e2e-aws-twin' }),
      ]);
      // The same two days and the same replay on both, side by side.
      await Promise.all([
        (async () => {
          for (const chartDate of days) {
            const { records: dayRecords } = await aws!.run({ chartId, chartDate });
            records.push({ what: `run ${chartDate}`, records: dayRecords });
          }
          const replayed = await aws!.replay({ chartId, chartDate: days[0]! });
          objectsReplayed = replayed.replay.objectsReplayed;
          records.push({ what: `replay ${days[0]}`, records: replayed.records });
          console.info(`AWS adapters: two days and a replay in ${seconds(performance.now() - started)}`);
        })(),
        (async () => {
          for (const chartDate of days)
            embeddedSummaries.push(await embedded!.pipeline.run({ chartId, chartDate }));
          const { days: replayed } = await embedded!.pipeline.replay({ chartId, chartDate: days[0]! });
          embeddedSummaries.push(...replayed);
          console.info(`Embedded: two days and a replay in ${seconds(performance.now() - started)}`);
        })(),
      ]);
    }, 240_000);
    afterAll(async () => {
      await Promise.all([aws?.close(), embedded?.stop()]);
      await moto?.stop();
    });

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
  },
);
