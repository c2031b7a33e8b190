import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeEventBus } from '../../infra/adapters/aws/eventbridge-event-bus.js';
import { LambdaLoaderTrigger } from '../../infra/adapters/aws/lambda-loader-trigger.js';
import { localContext } from '../../infra/local/handler-context.js';
import { awsReconcilerSettings } from '../../infra/reconciler-settings.js';
import { makeHandler as makeReconciler } from '../../services/reconciler/handler.js';
import type { ReconcileReport } from '../../services/reconciler/report.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { systemClock } from '../../shared/ports/clock.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';
import { martSnapshot, stageRows } from '../support/pipeline.js';
import { postgresAvailable } from '../support/services.js';

const available = motoAvailable();
const day = { chartId: 'global', chartDate: '2026-10-15' };
const stageLoaderName = 'chartflow-test-stage-loader';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A lost ObjectCreated on AWS (moto, PostgreSQL for Redshift, a local dbt for Fargate), repaired by
 * the reconciler's handler with its AWS adapters (docs/reliability.md, "The reconciler"): the
 * bucket's notifications are off while the day lands, so the stage loader never hears of it. Lambda
 * cannot run here (no Docker for moto's Lambda): the asynchronous invoke the reconciler sends is
 * taken off the SDK's wire and given to the stage loader's handler, as Lambda would run it.
 */
describe.skipIf(!available)('Feature: the reconciler repairs a lost ObjectCreated on AWS (moto)', () => {
  let moto: Moto;
  let reference: AwsPipeline | undefined;
  let lossy: AwsPipeline | undefined;
  let referenceMarts: Record<string, string[]>;
  const invocations: InvokeCommandInput[] = [];
  const loads: Promise<unknown>[] = [];
  let reconcile: (event: unknown) => Promise<ReconcileReport>;

  beforeAll(async () => {
    if (!(await postgresAvailable())) return;
    moto = await startMoto();
    [reference, lossy] = await Promise.all([
      AwsPipeline.start({ moto, label: 'reconcile_ref' }),
      AwsPipeline.start({ moto, label: 'reconcile_lossy' }),
    ]);
    const ran = await reference.run(day);
    expect(ran.records.map((r) => r.status)).toEqual(['succeeded']);
    referenceMarts = await martSnapshot(reference.warehouse);

    // The day lands with the bucket's notifications off: every ObjectCreated under raw/ is lost.
    const s3 = new S3Client(moto.clientConfig);
    const Bucket = lossy.resources.bucket;
    const { $metadata: _m, ...notifications } = await s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket }),
    );
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: {} }));
    // No final record can come, so the run's wait gives up at once; the track queue is drained after.
    await expect(lossy.run(day, 0)).rejects.toThrow(/no final run record/);
    await lossy.idle();
    await s3.send(
      new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: notifications }),
    );

    const bus = new EventBridgeEventBus({
      client: new EventBridgeClient(moto.clientConfig),
      eventBusName: lossy.resources.eventBusName,
    });
    const stageLoader = makeStageLoader({
      store: lossy.store,
      warehouse: lossy.warehouse,
      bus,
      clock: systemClock,
    });
    const lambda = new LambdaClient(moto.clientConfig);
    lambda.middlewareStack.add(
      () => async (args) => {
        const input = args.input as InvokeCommandInput;
        invocations.push(input);
        const event = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as S3Event;
        loads.push(stageLoader(event, localContext('stage-loader')));
        return { output: { StatusCode: 202, $metadata: { httpStatusCode: 202 } }, response: {} };
      },
      { step: 'initialize', name: 'lambdaRunsTheStageLoader' },
    );
    const handler = makeReconciler({
      store: lossy.store,
      warehouse: lossy.warehouse,
      bus,
      clock: systemClock,
      loader: new LambdaLoaderTrigger({
        client: lambda,
        functionName: stageLoaderName,
        bucket: Bucket,
        region: moto.region,
      }),
      charts: ['global'],
      // No grace: the test's events are all in, and the day's objects are seconds old.
      settings: { ...awsReconcilerSettings(), graceMs: 0 },
    });
    reconcile = (event) => handler(event, localContext('reconciler'));
  }, 600_000);

  afterAll(async () => {
    await Promise.all([reference?.close(), lossy?.close()]);
    await moto?.stop();
  });

  const recordsOf = () => new RunRecords(lossy!.store).list(day);

  /** Waits until the day's newest load has a final record and nothing is under way. */
  const settled = async (): Promise<RunRecord[]> => {
    for (let i = 0; i < 600; i += 1) {
      await Promise.all(loads);
      const records = await recordsOf();
      if (records.at(-1)?.status === 'succeeded') {
        await lossy!.idle();
        return records;
      }
      await sleep(250);
    }
    throw new Error(`no succeeded load: ${JSON.stringify((await recordsOf()).map((r) => r.status))}`);
  };

  it('finds the day complete and never claimed, hands the stage loader its ObjectCreated, and the marts equal an uninterrupted run’s', async () => {
    expect(await recordsOf()).toEqual([]);

    const dry = await reconcile({ from: day.chartDate, to: day.chartDate, dryRun: true });
    expect(dry.findings.map((f) => [f.kind, f.chartDate])).toEqual([['unloaded', day.chartDate]]);
    expect(invocations).toEqual([]);

    const report = await reconcile({ from: day.chartDate, to: day.chartDate });
    expect(report.actions).toEqual([expect.objectContaining({ kind: 'redelivered_object_created', ...day })]);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatchObject({ FunctionName: stageLoaderName, InvocationType: 'Event' });
    const event = JSON.parse(new TextDecoder().decode(invocations[0]!.Payload as Uint8Array)) as S3Event;
    expect(event.Records[0]).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: lossy!.resources.bucket } },
    });

    const records = await settled();
    expect(records.map((r) => r.status)).toEqual(['succeeded']);
    expect(await martSnapshot(lossy!.warehouse)).toEqual(referenceMarts);
    expect(await stageRows(lossy!.warehouse)).toBe(0);

    // The day is claimed and ended now: a second reconcile finds nothing and invokes nothing.
    const again = await reconcile({ from: day.chartDate, to: day.chartDate });
    expect(again.findings).toEqual([]);
    expect(again.actions).toEqual([]);
    expect(invocations).toHaveLength(1);
  }, 300_000);

  it('takes the hourly schedule’s event, and refuses an event it does not know, naming the field', async () => {
    const scheduled = await reconcile({
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: moto.region,
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/chartflow-reconciler'],
      detail: {},
    });
    expect(scheduled.dryRun).toBe(false);
    expect(scheduled.to).toBe(new Date().toISOString().slice(0, 10));

    await expect(reconcile({ from: '2026-13-01' })).rejects.toThrow(/reconciler event.*from/);
  }, 60_000);
});
