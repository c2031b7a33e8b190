import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { awsFunctionEnv } from '../../../../infra/aws/functions/environment.js';
import { reconcilerDeps } from '../../../../infra/aws/functions/reconciler.js';
import { parseAwsConfig } from '../../../../shared/config/aws-config.js';
import { parseReconcilerConfig } from '../../../../shared/config/reconciler-config.js';
import { ConfigError } from '../../../../shared/errors.js';
import { lambdaEnvironment } from '../../../support/aws-environment.js';

const lambda = mockClient(LambdaClient);
const events = mockClient(EventBridgeClient);
const clientConfig = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

beforeEach(() => {
  lambda.reset();
  events.reset();
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});
afterAll(() => {
  lambda.restore();
  events.restore();
});

const deps = () =>
  reconcilerDeps(
    awsFunctionEnv({ config: parseAwsConfig(lambdaEnvironment()), clientConfig }),
    parseReconcilerConfig({
      CHARTFLOW_STAGE_LOADER_FUNCTION: 'chartflow-dev-stageLoader',
      AWS_REGION: 'eu-west-1',
    }),
  );

describe('Function: reconcilerDeps', () => {
  it('invokes the stage loader the reconciler configuration names, asynchronously, for the stack bucket', async () => {
    const built = deps();
    await built.loader.objectCreated({
      key: 'raw/chart_songs/date=2026-11-20/chart=global/manifest.json',
      size: 1,
      etag: '0123456789abcdef0123456789abcdef',
      lastModified: new Date('2026-11-20T06:00:00.000Z'),
    });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call!.args[0].input).toMatchObject({
      FunctionName: 'chartflow-dev-stageLoader',
      InvocationType: 'Event',
    });
    const event = JSON.parse(new TextDecoder().decode(call!.args[0].input.Payload as Uint8Array)) as {
      Records: { s3: { bucket: { name: string } } }[];
    };
    expect(event.Records[0]!.s3.bucket.name).toBe(parseAwsConfig(lambdaEnvironment()).bucket);
  });

  it("puts events on the stack's bus, and is patient as the topology's track queue says (95 minutes), dead-lettering", async () => {
    const built = deps();
    await built.bus.publish({
      source: 'chartflow',
      detailType: 'Transform Requested',
      detail: { batchId: 'b-00000001' },
    });
    expect(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]).toMatchObject({
      EventBusName: parseAwsConfig(lambdaEnvironment()).eventBusName,
    });
    expect(built.charts).toEqual(['global', 'us']);
    expect(built.settings).toMatchObject({
      graceMs: 15 * 60_000,
      tracksGoneAfterMs: (3 * 1800 + 300) * 1000,
      missingTracks: 'dead_lettered',
      quietLockMs: 70_000,
      staleAfterMs: 26 * 3_600_000,
    });
  });

  it('refuses an environment without the stage loader, naming the variable', () => {
    expect(() => parseReconcilerConfig({ AWS_REGION: 'eu-west-1' })).toThrow(
      new ConfigError('CHARTFLOW_STAGE_LOADER_FUNCTION is required.'),
    );
    expect(() =>
      parseReconcilerConfig({ CHARTFLOW_STAGE_LOADER_FUNCTION: 'no spaces', AWS_REGION: 'eu-west-1' }),
    ).toThrow(/CHARTFLOW_STAGE_LOADER_FUNCTION must be a Lambda function name or ARN/);
  });
});
