import { randomUUID } from 'node:crypto';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { EventBridgeEventBus } from '../../../../infra/adapters/aws/eventbridge-event-bus.js';
import { ConfigError, PermanentError, RetryableError } from '../../../../shared/errors.js';
import { detailOf } from '../../../../shared/events/bus-event.js';
import { asEventBridgeSendsIt } from '../../../support/eventbridge-deliveries.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

const available = motoAvailable();

/** The error a promise rejects with, or undefined if it resolves. */
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

const stageLoaded = z.object({ date: z.string(), chart: z.string(), rows: z.number() });

describe.skipIf(!available)('Class: EventBridgeEventBus (moto)', () => {
  let moto: Moto;
  let events: EventBridgeClient;
  let sqs: SQSClient;
  beforeAll(async () => {
    moto = await startMoto();
    events = new EventBridgeClient(moto.clientConfig);
    sqs = new SQSClient(moto.clientConfig);
  });
  afterAll(() => moto?.stop());

  /** A bus whose one rule sends `source`/`detailTypes` events to a new queue, as the stack's transform rule does. */
  const busWithRule = async (detailTypes: string[]) => {
    const suffix = randomUUID().slice(0, 8);
    const eventBusName = `chartflow-${suffix}`;
    await events.send(new CreateEventBusCommand({ Name: eventBusName }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `transform-${suffix}` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await events.send(
      new PutRuleCommand({
        Name: `transform-${suffix}`,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify({ source: ['chartflow'], 'detail-type': detailTypes }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: `transform-${suffix}`,
        EventBusName: eventBusName,
        Targets: [{ Id: 'transform-queue', Arn: Attributes!.QueueArn! }],
      }),
    );
    return { eventBusName, queueUrl: QueueUrl! };
  };

  const drain = async (queueUrl: string) => {
    const bodies: unknown[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) return bodies;
      for (const m of Messages) {
        bodies.push(JSON.parse(m.Body!));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  };

  it('publishes an event that a rule delivers as an EventBridge envelope detailOf reads', async () => {
    const { eventBusName, queueUrl } = await busWithRule(['Stage Loaded', 'Transform Requested']);
    const bus = new EventBridgeEventBus({ client: events, eventBusName });
    const detail = { date: '2025-01-02', chart: 'global', rows: 200 };
    await bus.publish({ source: 'chartflow', detailType: 'Stage Loaded', detail });
    await bus.publish({ source: 'chartflow', detailType: 'Something Else', detail: { ignored: true } });
    await bus.publish({ source: 'elsewhere', detailType: 'Stage Loaded', detail });

    const delivered = await drain(queueUrl);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ source: 'chartflow', 'detail-type': 'Stage Loaded', detail });
    expect(detailOf(asEventBridgeSendsIt(delivered[0]), 'Stage Loaded', stageLoaded)).toEqual(detail);
  });

  it('fails with a PermanentError naming the bus when the bus does not exist (ResourceNotFoundException)', async () => {
    const eventBusName = `never-created-${randomUUID().slice(0, 8)}`;
    const bus = new EventBridgeEventBus({ client: events, eventBusName });
    const error = await caught(bus.publish({ source: 'chartflow', detailType: 'Stage Loaded', detail: {} }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).not.toBeInstanceOf(RetryableError);
    expect(error?.message).toMatch(
      new RegExp(
        `PutEvents "Stage Loaded" from chartflow to ${eventBusName} failed: ResourceNotFoundException`,
      ),
    );
  });

  it('fails with a PermanentError naming the code and message when EventBridge refuses the entry', async () => {
    const { eventBusName, queueUrl } = await busWithRule(['Stage Loaded']);
    const bus = new EventBridgeEventBus({ client: events, eventBusName });
    for (const [event, field] of [
      [{ source: '', detailType: 'Stage Loaded', detail: {} }, 'Source'],
      [{ source: 'chartflow', detailType: '', detail: {} }, 'DetailType'],
    ] as const) {
      const error = await caught(bus.publish(event));
      // InvalidArgument would fail again: trying the work again only delays the dead-letter queue.
      expect(error, field).toBeInstanceOf(PermanentError);
      expect(error, field).not.toBeInstanceOf(RetryableError);
      expect(error?.message).toMatch(
        new RegExp(
          `to ${eventBusName}: EventBridge refused the entry: InvalidArgument: Parameter ${field} is not valid`,
        ),
      );
    }
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('keeps unicode, quotes and nesting of a detail through JSON', async () => {
    const { eventBusName, queueUrl } = await busWithRule(['Transform Requested']);
    const bus = new EventBridgeEventBus({ client: events, eventBusName });
    const detail = {
      reason: 'replay "2025-01-02" — é 🎵',
      days: ['2025-01-01', '2025-01-02'],
      nested: { n: 1 },
    };
    await bus.publish({ source: 'chartflow', detailType: 'Transform Requested', detail });
    const [envelope] = await drain(queueUrl);
    expect(detailOf(asEventBridgeSendsIt(envelope), 'Transform Requested', z.unknown())).toEqual(detail);
  });
});

// Answers moto never gives: it fails an entry only for a missing Source, DetailType or Detail, or
// malformed JSON (tested on moto above), never for a reason of its own.
describe('Class: EventBridgeEventBus (mocked answers)', () => {
  const client = new EventBridgeClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  const bus = new EventBridgeEventBus({ client, eventBusName: 'chartflow-dev' });
  const event = { source: 'chartflow', detailType: 'Stage Loaded', detail: { date: '2025-01-02' } };
  afterEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('sends one entry: source, detail-type, the detail as JSON, and the bus', async () => {
    mock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await bus.publish(event);
    expect(mock.commandCalls(PutEventsCommand)[0]?.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: 'chartflow-dev',
          Source: 'chartflow',
          DetailType: 'Stage Loaded',
          Detail: '{"date":"2025-01-02"}',
        },
      ],
    });
  });

  it('throws a RetryableError naming the error code and message when the entry failed', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error.' }],
    });
    const error = await bus.publish(event).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect(error?.message).toMatch(/Stage Loaded.*chartflow-dev.*InternalFailure: Internal service error\./);
  });

  it('rejects malformed options', () => {
    expect(() => new EventBridgeEventBus({ client, eventBusName: '' })).toThrow(ConfigError);
    expect(() => new EventBridgeEventBus({ client: {} as EventBridgeClient, eventBusName: 'b' })).toThrow(
      /client/,
    );
  });
});
