import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncFailureRecordSchema } from '../../shared/events/async-failure.js';
import { dbtContainerName, ecsTaskStateChange } from '../../shared/events/ecs-task-event.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';

const available = motoAvailable();

/** The stop of a dbt task whose batch the lake does not have: stage-cleanup cannot finish it, ever. */
const stopOfAnUnknownBatch = {
  version: '0',
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  'detail-type': ecsTaskStateChange,
  source: 'aws.ecs',
  account: '000000000000',
  time: '2026-12-07T06:40:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/chartflow-dev/0f3e',
    lastStatus: 'STOPPED',
    containers: [{ name: dbtContainerName, exitCode: 0 }],
    overrides: {
      containerOverrides: [
        {
          name: dbtContainerName,
          environment: [{ name: 'CHARTFLOW_BATCH_ID', value: '20261207T063000000Z-deadbeef' }],
        },
      ],
    },
  },
};

/**
 * An asynchronous invocation that fails for good lands in its on-failure destination, a queue in
 * moto, as Lambda's destination record (serverless.yml: every async function's `destinations`).
 */
describe.skipIf(!available)('an asynchronous failure lands in its destination (moto)', () => {
  let moto: Moto;
  let pipeline: AwsPipeline;

  beforeAll(async () => {
    moto = await startMoto();
    pipeline = await AwsPipeline.start({ moto, label: 'async-failure' });
  }, 300_000);
  afterAll(async () => {
    await pipeline?.close();
    await moto?.stop();
  });

  it("keeps stage-cleanup's failed invocation in the async-failed queue: the event, the error, the attempts", async () => {
    pipeline.taskStateChanged(stopOfAnUnknownBatch);
    await pipeline.invoker.idle();
    const messages = await pipeline.peek(pipeline.resources.asyncFailureQueueUrl);
    expect(messages).toHaveLength(1);
    const record = asyncFailureRecordSchema.parse(JSON.parse(messages[0]!.body));
    // A batch the lake does not have is no passing trouble: Lambda's retries would change nothing.
    expect(record.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 1 });
    expect(record.requestContext.functionArn).toMatch(/:function:stage-cleanup:\$LATEST$/);
    expect(record.responsePayload).toMatchObject({
      errorType: 'InvalidRecordError',
      errorMessage: expect.stringContaining('20261207T063000000Z-deadbeef') as unknown,
    });
    expect(record.requestPayload).toEqual(stopOfAnUnknownBatch);
  });
});
