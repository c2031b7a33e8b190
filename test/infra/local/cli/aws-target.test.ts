import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { S3Client, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { localContext } from '../../../../infra/local/handler-context.js';
import { makeHandler as makeReplay } from '../../../../services/replay/handler.js';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { PermanentError } from '../../../../shared/errors.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import type { Clock } from '../../../../shared/ports/clock.js';
import type { FunctionInvoker } from '../../../../shared/ports/function-invoker.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

const available = motoAvailable();
const fixedClock: Clock = { now: () => new Date('2026-11-22T10:00:00Z'), sleep: async () => undefined };

/** A run record of a day and chart, its load made at `loadedAt`. */
const runRecordFactory = (
  chartId: string,
  chartDate: string,
  loadedAt: string,
  overrides: Partial<RunRecord> = {},
): RunRecord => {
  const stamp = loadedAt.replace(/[-:.]/g, '');
  return {
    runId: `${stamp}-aaaa0001`,
    loadId: `${stamp}-bbbb0001`,
    chartId,
    chartDate,
    status: 'succeeded',
    rows: { chart_songs: 50, song_attributes: 50 },
    checks: [{ name: 'stage_rows_match_manifest', passed: true }],
    timings: { loadMs: 900, checksMs: 60, dbtMs: 41_000 },
    updatedAt: loadedAt,
    ...overrides,
  };
};

// The stack as the CLI sees it: the lake bucket and the outputs serverless.yml declares.
const stackTemplate = (outputs: Record<string, unknown>) =>
  JSON.stringify({ Resources: { Lake: { Type: 'AWS::S3::Bucket' } }, Outputs: outputs });

const s3EventSchema = z.object({
  Records: z.array(
    z.object({ eventName: z.string(), s3: z.object({ object: z.object({ key: z.string() }) }) }),
  ),
});

describe.skipIf(!available)('Function: chartflow status and replay --target aws (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let sqs: SQSClient;
  let bucket: string;
  let queueUrl: string;
  let lake: S3ObjectStore;
  let out: string[];
  let notes: string[];
  let invocations: { functionName: string; payload: unknown }[];
  /** Runs at each poll of `--wait`: how a test plays the pipeline that reacts to a replay on AWS. */
  let afterReplay: (sleeps: () => number) => Promise<void>;
  let sleeps: number;

  // The replay Lambda, run in-process as Lambda would run it: JSON in, JSON out, a throw is a FunctionError.
  const inProcessLambda = (): FunctionInvoker => ({
    invoke: async (functionName, payload) => {
      invocations.push({ functionName, payload });
      if (functionName !== 'chartflow-dev-replay') throw new PermanentError(`no function ${functionName}`);
      const handler = makeReplay({ store: new S3ObjectStore({ client: s3, bucket }) });
      try {
        const answer = await handler(JSON.parse(JSON.stringify(payload)), localContext(functionName));
        return JSON.parse(JSON.stringify(answer)) as unknown;
      } catch (error) {
        throw new PermanentError(
          `Lambda function ${functionName} failed (Unhandled): ${(error as Error).name}: ${(error as Error).message}`,
        );
      }
    },
  });

  const context = (processEnv: Record<string, string> = {}, functions = true): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent/chartflow-home' }),
    clock: {
      now: fixedClock.now,
      sleep: async () => {
        sleeps += 1;
        await afterReplay(() => sleeps);
      },
    },
    processEnv,
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
    aws: {
      clientSettings: moto.clientConfig,
      ...(functions ? { functionInvoker: inProcessLambda } : {}),
    },
  });
  const chartflow = (args: string[], processEnv?: Record<string, string>, functions?: boolean) =>
    main(['node', 'chartflow', ...args], context(processEnv, functions));

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    sqs = new SQSClient(moto.clientConfig);
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-dev',
        TemplateBody: stackTemplate({
          LakeBucketName: { Value: { Ref: 'Lake' } },
          ReplayFunctionName: { Value: 'chartflow-dev-replay' },
        }),
      }),
    );
    // A stack from an older template: a lake, but no replay function.
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-old',
        TemplateBody: stackTemplate({ LakeBucketName: { Value: { Ref: 'Lake' } } }),
      }),
    );
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'chartflow-dev' }));
    bucket = described.Stacks![0]!.Outputs!.find((o) => o.OutputKey === 'LakeBucketName')!.OutputValue!;
    cloudFormation.destroy();
    lake = new S3ObjectStore({ client: s3, bucket });

    // The bucket notification the stage loader listens to, here into a queue the test reads.
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'raw-object-created' }))).QueueUrl!;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              QueueArn: queueArn,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'raw/' }] } },
            },
          ],
        },
      }),
    );

    // What the lake holds: two days of br (raw objects, their tables' CSVs and a claim), and run records.
    for (const date of ['2026-11-20', '2026-11-21']) {
      await lake.put(lakeKeys.chartRaw(date, 'br'), '{}');
      await lake.put(lakeKeys.chartCsv(date, 'br'), 'position,track_id\n1,abc\n');
      await lake.put(lakeKeys.manifest(date, 'br'), '{"trackIds":["abc"]}');
      await lake.put(lakeKeys.attributesRaw(date, 'br', 'part-0123456789abcdef'), '{}');
      await lake.put(lakeKeys.attributesCsv(date, 'br', 'part-0123456789abcdef'), 'track_id\nabc\n');
      await lake.put(lakeKeys.claim(date, 'br', '20261122T060000000Z-cccc0001'), '{}');
    }
    const records = new RunRecords(lake);
    await records.write(runRecordFactory('br', '2026-11-20', '2026-11-20T06:10:00.000Z'));
    await records.write(
      runRecordFactory('br', '2026-11-21', '2026-11-21T06:10:00.000Z', {
        status: 'transform_failed',
        checks: [
          { name: 'stage_rows_match_manifest', passed: true },
          { name: 'positions_are_unique', passed: false, detail: 'position 7 appears twice' },
        ],
        transform: {
          taskId: 'arn:aws:ecs:us-east-1:123456789012:task/chartflow-dev/0f3e',
          startedAt: '2026-11-21T06:11:00.000Z',
          finishedAt: '2026-11-21T06:13:00.000Z',
          message: 'Database Error in model fct_chart_entries: permission denied for schema marts',
        },
      }),
    );
    await records.write(runRecordFactory('global', '2026-11-19', '2026-11-19T06:10:00.000Z'));
  });
  afterAll(async () => {
    s3?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    out = [];
    notes = [];
    invocations = [];
    sleeps = 0;
    afterReplay = async () => undefined;
  });

  describe('status', () => {
    it('shows the last runs of the deployed lake, newest day first, and exits 1 because one failed', async () => {
      const code = await chartflow(['status', '--target', 'aws', '--region', 'us-east-1']);

      expect(code).toBe(1);
      const text = out.join('\n');
      expect(text).toContain(
        `the last 3 run(s) in s3://${bucket} (stack chartflow-dev, us-east-1), newest day first`,
      );
      expect(text.indexOf('br 2026-11-21: transform_failed')).toBeLessThan(
        text.indexOf('br 2026-11-20: succeeded'),
      );
      expect(text.indexOf('br 2026-11-20: succeeded')).toBeLessThan(
        text.indexOf('global 2026-11-19: succeeded'),
      );
      expect(text).toContain('    ✗ positions_are_unique: position 7 appears twice');
      expect(text).toContain(
        '  dbt said        Database Error in model fct_chart_entries: permission denied for schema marts',
      );
      expect(text).toContain('  time            load 0.9 s, checks 0.1 s, dbt 41.0 s');
      expect(text).toMatch(/1 of the 3 run\(s\) shown failed: br 2026-11-21 \(transform_failed\)\.$/);
    });

    it('keeps to --last, --chart and --date, exits 0 when none shown failed, and prints JSON', async () => {
      expect(
        await chartflow(['status', '--target', 'aws', '--region', 'us-east-1', '--chart', 'global']),
      ).toBe(0);
      expect(out.join('\n')).toMatch(/global 2026-11-19: succeeded[\s\S]*all 1 run\(s\) shown succeeded\.$/);

      out = [];
      const code = await chartflow([
        'status',
        '--target',
        'aws',
        '--region',
        'us-east-1',
        '--date',
        '2026-11-20',
        '--last',
        '1',
        '--json',
      ]);
      expect(code).toBe(0);
      expect(out).toHaveLength(1);
      const shown = JSON.parse(out[0]!);
      expect(shown.runs).toHaveLength(1);
      expect(shown.runs[0]).toMatchObject({ chartId: 'br', chartDate: '2026-11-20', status: 'succeeded' });
    });

    it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION', async () => {
      expect(await chartflow(['status', '--target', 'aws', '--last', '1'], { AWS_REGION: 'us-east-1' })).toBe(
        1,
      );
      expect(
        await chartflow(['status', '--target', 'aws', '--last', '1'], { AWS_DEFAULT_REGION: 'us-east-1' }),
      ).toBe(1);
      expect(out.every((o) => o.includes(`s3://${bucket}`))).toBe(true);
    });
  });

  describe('replay', () => {
    const receivedEvents = async (count: number) => {
      const events: { eventName: string; key: string }[] = [];
      for (let attempt = 0; attempt < 10 && events.length < count; attempt += 1) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) {
          const parsed = s3EventSchema.safeParse(JSON.parse(message.Body!));
          if (!parsed.success) continue; // moto's s3:TestEvent
          for (const r of parsed.data.Records)
            events.push({ eventName: r.eventName, key: decodeURIComponent(r.s3.object.key) });
        }
      }
      return events;
    };

    // What the setup's writes announced: read and deleted, so that only the replay's events remain.
    const drain = async () => {
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return;
        for (const m of Messages)
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    };

    it('invokes the replay function with {chartDate, chartId}, which announces the day again on S3', async () => {
      await drain();
      const code = await chartflow([
        'replay',
        '--target',
        'aws',
        '--region',
        'us-east-1',
        '--date',
        '2026-11-20',
        '--chart',
        'br',
      ]);

      expect(code).toBe(0);
      expect(notes).toEqual(['chartflow: replaying br 2026-11-20 with chartflow-dev-replay in us-east-1…']);
      expect(invocations).toEqual([
        { functionName: 'chartflow-dev-replay', payload: { chartDate: '2026-11-20', chartId: 'br' } },
      ]);
      expect(out.join('\n')).toBe(
        [
          `replayed 3 objects of br 2026-11-20 in s3://${bucket} (function chartflow-dev-replay), 1 claim(s) reset`,
          '',
          'The reload and the transform now run on AWS: chartflow status --target aws --stage dev --region us-east-1 --date 2026-11-20 shows their outcome.',
        ].join('\n'),
      );
      // Every raw object of the day was copied onto itself: S3 announced it again, as the stage loader
      // hears it; the CSVs under tables/, whose ObjectCreated fires nothing, were left alone.
      const events = await receivedEvents(3);
      expect(events.map((e) => e.key).sort()).toEqual(
        [
          lakeKeys.attributesRaw('2026-11-20', 'br', 'part-0123456789abcdef'),
          lakeKeys.chartRaw('2026-11-20', 'br'),
          lakeKeys.manifest('2026-11-20', 'br'),
        ].sort(),
      );
      expect(new Set(events.map((e) => e.eventName))).toEqual(new Set(['ObjectCreated:Copy']));
      expect(await lake.list(lakeKeys.claimsPrefix('2026-11-20', 'br'))).toEqual([]);
      // The other day was left alone.
      expect(await lake.list(lakeKeys.claimsPrefix('2026-11-21', 'br'))).toHaveLength(1);
    });

    it('with --wait, polls the run records until the new load has ended, ignoring the older ones', async () => {
      // The pipeline on AWS, played by the test: a new load appears at the second poll, ends at the fourth.
      const newLoad = runRecordFactory('br', '2026-11-21', '2026-11-22T10:00:05.000Z', {
        status: 'transforming',
      });
      afterReplay = async (count) => {
        if (count() === 2) await new RunRecords(lake).write(newLoad);
        if (count() === 4)
          await new RunRecords(lake).write({
            ...newLoad,
            status: 'succeeded',
            updatedAt: '2026-11-22T10:01:05.000Z',
          });
      };

      const code = await chartflow([
        'replay',
        '--target',
        'aws',
        '--region',
        'us-east-1',
        '--date',
        '2026-11-21',
        '--wait',
      ]);

      expect(code).toBe(0);
      expect(invocations).toEqual([
        { functionName: 'chartflow-dev-replay', payload: { chartDate: '2026-11-21' } },
      ]);
      expect(sleeps).toBe(4);
      const text = out.join('\n');
      expect(text).toContain(`br 2026-11-21: succeeded (run ${newLoad.runId}, load ${newLoad.loadId};`);
      // The day's older, failed load is not what the replay did.
      expect(text).not.toContain('transform_failed');
      expect(text).toMatch(/all 1 run\(s\) shown succeeded\.$/);
      expect(notes.join('\n')).toMatch(
        /waiting for the new load of br 2026-11-21 to end \(up to 30 minutes\)/,
      );
    });

    it('refuses a day the lake does not have, before invoking anything', async () => {
      const code = await chartflow([
        'replay',
        '--target',
        'aws',
        '--region',
        'us-east-1',
        '--date',
        '2026-11-01',
      ]);
      expect(code).toBe(2);
      expect(invocations).toEqual([]);
      expect(notes).toEqual([
        `chartflow: There is nothing to replay for any chart on 2026-11-01: the lake (s3://${bucket}) has no such day.`,
      ]);
    });

    it('reports the function’s error type and message in a sentence, and exits 1', async () => {
      // The real LambdaFunctionInvoker: Lambda itself cannot run here, so its answer is mocked.
      const lambda = mockClient(LambdaClient);
      lambda.on(InvokeCommand).resolves({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: new TextEncoder().encode(
          JSON.stringify({ errorType: 'PermanentError', errorMessage: 'S3 CopyObject failed: AccessDenied' }),
        ) as NonNullable<InvokeCommandOutput['Payload']>,
      });
      try {
        const code = await chartflow(
          ['replay', '--target', 'aws', '--region', 'us-east-1', '--date', '2026-11-20'],
          {},
          false,
        );
        expect(code).toBe(1);
        expect(notes.at(-1)).toBe(
          'chartflow: Lambda function chartflow-dev-replay failed (Unhandled): PermanentError: S3 CopyObject failed: AccessDenied.',
        );
        expect(out).toEqual([]);
        const sent = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
        expect(sent).toMatchObject({
          FunctionName: 'chartflow-dev-replay',
          InvocationType: 'RequestResponse',
        });
        expect(JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array))).toEqual({
          chartDate: '2026-11-20',
        });
      } finally {
        lambda.restore();
      }
    });
  });

  describe('errors', () => {
    it('says how to deploy a stack that does not exist', async () => {
      const code = await chartflow(['status', '--target', 'aws', '--region', 'us-east-1', '--stage', 'prod']);
      expect(code).toBe(2);
      expect(notes).toEqual([
        'chartflow: Stack chartflow-prod not found in us-east-1: deploy it with npx serverless deploy --stage prod.',
      ]);
    });

    it('names an output the stack does not have', async () => {
      const code = await chartflow([
        'replay',
        '--target',
        'aws',
        '--region',
        'us-east-1',
        '--stack',
        'chartflow-old',
        '--date',
        '2026-11-20',
      ]);
      expect(code).toBe(2);
      expect(invocations).toEqual([]);
      expect(notes).toEqual([
        'chartflow: Stack chartflow-old in us-east-1 (CREATE_COMPLETE) has no output ReplayFunctionName: deploy it again with npx serverless deploy --stage dev.',
      ]);
    });

    it('asks for a region when none is given or set', async () => {
      expect(await chartflow(['status', '--target', 'aws'])).toBe(2);
      expect(notes).toEqual([
        'chartflow: No AWS region for --target aws: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION.',
      ]);
    });

    it('refuses a malformed region, and AWS options without --target aws', async () => {
      expect(await chartflow(['status', '--target', 'aws', '--region', 'Ireland'])).toBe(2);
      expect(await chartflow(['status', '--region', 'us-east-1'])).toBe(2);
      expect(await chartflow(['replay', '--date', '2026-11-20', '--wait'])).toBe(2);
      expect(await chartflow(['status', '--target', 'gcp'])).toBe(2);
      expect(
        await chartflow([
          'replay',
          '--target',
          'aws',
          '--region',
          'eu-west-1',
          '--date',
          '2026-11-20',
          '--wait',
          '5',
        ]),
      ).toBe(2);
      expect(notes).toEqual([
        'chartflow: --region: must be an AWS region such as eu-west-1.',
        'chartflow: --region is for --target aws only.',
        'chartflow: --wait on this machine takes seconds (how long to wait for the home): an embedded replay always waits for its outcome.',
        'chartflow: --target: must be embedded or aws.',
        'chartflow: With --target aws, --wait takes no seconds: it waits up to 30 minutes for the new load.',
      ]);
    });
  });
});
