import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqsQueue } from '../../../../infra/adapters/aws/sqs-queue.js';
import { ConfigError, PermanentError, RetryableError } from '../../../../shared/errors.js';
import { sqsEventFactory, shapeOf } from '../../../support/factories.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';
import { SqsEventSource } from '../../../support/sqs-event-source.js';
import { describeQueueContract } from '../../../shared/ports/queue.contract.js';

const available = motoAvailable();
const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

// SQS counts visibility timeouts in whole seconds (moto too: 0 or more), so the contract's tens of
// milliseconds run 25 times slower here and the fixture rounds them up to seconds: 20-40 ms → 1 s.
const timeScale = 25;
const toSeconds = (ms: number) => Math.ceil(ms / 1000);

/** The error a promise rejects with, or undefined if it resolves. */
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

/** A client that counts the requests of one command. */
const countingClient = (moto: Moto, commandName: string) => {
  const client = new SQSClient(moto.clientConfig);
  const counter = { requests: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) counter.requests += 1;
      return next(args);
    },
    { step: 'initialize', name: `count${commandName}` },
  );
  return { client, counter };
};

describe.skipIf(!available)('SqsQueue and SqsEventSource on moto', () => {
  let moto: Moto;
  let client: SQSClient;
  beforeAll(async () => {
    moto = await startMoto();
    client = new SQSClient(moto.clientConfig);
  });
  afterAll(() => moto?.stop());

  const createQueue = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  };

  const receiveAll = async (queueUrl: string) => {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return Messages;
  };

  describeQueueContract(
    'SqsQueue with SqsEventSource (moto)',
    async (options) => {
      const deadLetterQueue =
        options.maxReceiveCount === undefined ? undefined : await createQueue(uniqueName('contract-dlq'));
      const queue = await createQueue(uniqueName('contract'), {
        // SQS's default, like the MemoryQueue's, when the test does not ask.
        VisibilityTimeout: String(toSeconds(options.visibilityTimeoutMs ?? 30_000)),
        ...(deadLetterQueue
          ? {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: deadLetterQueue.arn,
                maxReceiveCount: options.maxReceiveCount,
              }),
            }
          : {}),
      });
      let source: SqsEventSource | undefined;
      let started: Promise<void> = Promise.resolve();
      return {
        queue: new SqsQueue({ client, queueUrl: queue.url }),
        subscribe: (handler) => {
          source = new SqsEventSource({
            client,
            queueUrl: queue.url,
            handler,
            ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
            ...(options.batchingWindowMs === undefined ? {} : { batchingWindowMs: options.batchingWindowMs }),
            ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
          });
          started = source.start();
          started.catch(() => undefined); // reported by idle()
        },
        deadLetters: async () => {
          if (!deadLetterQueue) return [];
          // SQS has no peek: receiving is the only way to look, and it counts as one more receive.
          return (await receiveAll(deadLetterQueue.url)).map((m) => ({
            messageId: m.MessageId!,
            body: m.Body!,
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount) - 1,
          }));
        },
        idle: async () => {
          await started;
          await source?.idle();
        },
        cleanup: async () => {
          await source?.stop();
          await client.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
          if (deadLetterQueue) await client.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueue.url }));
        },
      };
    },
    { timeScale },
  );

  describe('Class: SqsQueue', () => {
    it('sends in batches of 10 entries and at most 256 KiB, every message once', async () => {
      const { url } = await createQueue(uniqueName('batches'));
      const counted = countingClient(moto, 'SendMessageBatchCommand');
      const queue = new SqsQueue({ client: counted.client, queueUrl: url });
      await queue.send(Array.from({ length: 23 }, (_, i) => ({ id: `m${i}`, body: `body ${i}` })));
      expect(counted.counter.requests).toBe(3);

      counted.counter.requests = 0;
      const big = 'x'.repeat(100 * 1024);
      await queue.send(['a', 'b', 'c'].map((id) => ({ id, body: `${id}${big}` })));
      // 2 × 100 KiB fit in one request; the third would pass 256 KiB.
      expect(counted.counter.requests).toBe(2);

      const bodies: string[] = [];
      for (let messages = await receiveAll(url); messages.length > 0; messages = await receiveAll(url)) {
        for (const m of messages) {
          bodies.push(m.Body!.slice(0, 8));
          await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
      expect(bodies.sort()).toEqual(
        [...Array.from({ length: 23 }, (_, i) => `body ${i}`), ...['a', 'b', 'c'].map((id) => `${id}xxxxxxx`)]
          .map((b) => b.slice(0, 8))
          .sort(),
      );
    });

    it('refuses repeated ids before sending anything', async () => {
      const { url } = await createQueue(uniqueName('dupes'));
      const queue = new SqsQueue({ client, queueUrl: url });
      const many = Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, body: 'x' }));
      await expect(queue.send([...many, { id: 'm0', body: 'again' }])).rejects.toThrow(
        /BatchEntryIdsNotDistinct.*"m0"/,
      );
      expect(await receiveAll(url)).toEqual([]);
    });

    it('treats a stale receipt handle as nothing to change', async () => {
      const { url } = await createQueue(uniqueName('stale'), { VisibilityTimeout: '30' });
      const queue = new SqsQueue({ client, queueUrl: url });
      await queue.send([{ id: 'a', body: 'a' }]);
      const [message] = await receiveAll(url);
      await queue.changeVisibility(message!.ReceiptHandle!, 0);
      // Visible again at once: received anew, so the first handle is now an old one.
      const [again] = await receiveAll(url);
      expect(again?.MessageId).toBe(message?.MessageId);
      await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle! }));
      await expect(queue.changeVisibility(again!.ReceiptHandle!, 10)).resolves.toBeUndefined();
      await expect(queue.changeVisibility('not-a-receipt-handle', 10)).resolves.toBeUndefined();
    });

    it('rounds a visibility timeout up to whole seconds, as SQS counts them', async () => {
      const { url } = await createQueue(uniqueName('round'), { VisibilityTimeout: '30' });
      const timeouts: unknown[] = [];
      const noting = new SQSClient(moto.clientConfig);
      noting.middlewareStack.add(
        (next) => async (args) => {
          timeouts.push((args.input as { VisibilityTimeout?: number }).VisibilityTimeout);
          return next(args);
        },
        { step: 'initialize', name: 'noteVisibilityTimeout' },
      );
      const queue = new SqsQueue({ client: noting, queueUrl: url });
      await client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'a' }] }),
      );
      const [message] = await receiveAll(url);
      await queue.changeVisibility(message!.ReceiptHandle!, 0.25);
      expect(timeouts).toEqual([1]);
      // Hidden for a second, not 0.25 s rounded down to "visible at once".
      expect(await receiveAll(url)).toEqual([]);
    });

    it('rejects malformed options and visibility timeouts', async () => {
      expect(() => new SqsQueue({ client, queueUrl: 'not a url' })).toThrow(ConfigError);
      expect(() => new SqsQueue({ client: {} as SQSClient, queueUrl: 'http://q' })).toThrow(/client/);
      const queue = new SqsQueue({ client, queueUrl: 'http://127.0.0.1:1/000000000000/q' });
      await expect(queue.changeVisibility('h', 43_201)).rejects.toThrow(RangeError);
      await expect(queue.changeVisibility('h', -1)).rejects.toThrow(RangeError);
    });

    it('fails at once with a PermanentError naming the queue when it does not exist (QueueDoesNotExist)', async () => {
      const { url } = await createQueue(uniqueName('deleted'));
      await client.send(new DeleteQueueCommand({ QueueUrl: url }));
      const counted = countingClient(moto, 'SendMessageBatchCommand');
      const queue = new SqsQueue({ client: counted.client, queueUrl: url });
      const sent = await caught(queue.send([{ id: 'a', body: 'A' }]));
      expect(sent).toBeInstanceOf(PermanentError);
      expect(sent).not.toBeInstanceOf(RetryableError);
      expect(sent?.message).toMatch(
        /SendMessageBatch .*\/deleted-\w+ failed: .*QueueDoesNotExist \(HTTP 400\)/,
      );
      expect(counted.counter.requests).toBe(1);
      const changed = await caught(queue.changeVisibility('h', 5));
      expect(changed).toBeInstanceOf(PermanentError);
      expect(changed?.message).toMatch(/ChangeMessageVisibility .*\/deleted-\w+ failed: .*QueueDoesNotExist/);
    });

    it('fails at once with a PermanentError when SQS refuses the batch (InvalidBatchEntryId, BatchRequestTooLong)', async () => {
      const { url } = await createQueue(uniqueName('refused'));
      const counted = countingClient(moto, 'SendMessageBatchCommand');
      const queue = new SqsQueue({ client: counted.client, queueUrl: url });
      const badId = await caught(queue.send([{ id: 'day.2025-01-02', body: 'A' }]));
      expect(badId).toBeInstanceOf(PermanentError);
      expect(badId).not.toBeInstanceOf(RetryableError);
      expect(badId?.message).toMatch(/SendMessageBatch .*\/refused-\w+ failed: .*InvalidBatchEntryId/);
      // Over SQS's largest message (1 MiB): sent alone, and refused whole.
      const tooLong = await caught(queue.send([{ id: 'big', body: 'x'.repeat(1024 * 1024 + 1) }]));
      expect(tooLong).toBeInstanceOf(PermanentError);
      expect(tooLong).not.toBeInstanceOf(RetryableError);
      expect(tooLong?.message).toMatch(/SendMessageBatch .*BatchRequestTooLong/);
      expect(counted.counter.requests).toBe(2);
      expect(await receiveAll(url)).toEqual([]);
    });

    it('fails with a PermanentError when SQS refuses a visibility timeout past 12 hours since the receive', async () => {
      const { url } = await createQueue(uniqueName('too-long'));
      const queue = new SqsQueue({ client, queueUrl: url });
      await queue.send([{ id: 'a', body: 'a' }]);
      const [message] = await receiveAll(url);
      // 43200 s is allowed by itself, but counts from the receive, a few milliseconds ago.
      const refused = await caught(queue.changeVisibility(message!.ReceiptHandle!, 43_200));
      expect(refused).toBeInstanceOf(PermanentError);
      expect(refused?.message).toMatch(/ChangeMessageVisibility .*InvalidParameterValue.*VisibilityTimeout/);
    });
  });

  describe('Class: SqsEventSource', () => {
    it('delivers records shaped as Lambda delivers SQS records', async () => {
      const { url, arn } = await createQueue(uniqueName('shape'));
      const body = '{"trackId":"4uLU6hMCjMI75M1A2tKUQC"}';
      const before = Date.now();
      await new SqsQueue({ client, queueUrl: url }).send([{ id: 'x', body }]);
      const events: SQSEvent[] = [];
      const source = new SqsEventSource({ client, queueUrl: url, handler: async (e) => void events.push(e) });
      await source.start();
      try {
        await source.idle();
      } finally {
        await source.stop();
      }
      const record = events[0]?.Records[0];
      expect(shapeOf(record)).toEqual(shapeOf(sqsEventFactory('x').Records[0]));
      expect(record).toMatchObject({
        body,
        eventSource: 'aws:sqs',
        eventSourceARN: arn,
        awsRegion: moto.region,
        messageAttributes: {},
        attributes: { ApproximateReceiveCount: '1' },
      });
      expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThanOrEqual(before - 1_000);
    });

    it('gathers a batch larger than one receive (10) within the window', async () => {
      const { url } = await createQueue(uniqueName('large'));
      await new SqsQueue({ client, queueUrl: url }).send(
        Array.from({ length: 25 }, (_, i) => ({ id: `m${i}`, body: `b${i}` })),
      );
      const sizes: number[] = [];
      const source = new SqsEventSource({
        client,
        queueUrl: url,
        batchSize: 25,
        batchingWindowMs: 2_000,
        handler: async (e) => void sizes.push(e.Records.length),
      });
      await source.start();
      try {
        await source.idle();
      } finally {
        await source.stop();
      }
      expect(sizes).toEqual([25]);
    });
  });
});

// Answers moto never gives: its SendMessageBatch fails no entry the adapter can send (only a bad
// DelaySeconds, which it never sets), it never throttles, and it answers every stale handle
// ReceiptHandleIsInvalid (the test on moto above). docs/testing.md says which.
describe('Class: SqsQueue (errors moto does not give)', () => {
  const client = new SQSClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/tracks';
  afterEach(() => mock.reset());
  afterAll(() => mock.restore());

  // moto fails no entry for a reason of its own (SenderFault false).
  it('sends again only the entries SQS failed, until they pass', async () => {
    mock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'a', MessageId: '1', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: 'b', SenderFault: false, Code: 'InternalError', Message: 'try again' }],
      })
      .resolves({ Successful: [{ Id: 'b', MessageId: '2', MD5OfMessageBody: 'y' }], Failed: [] });
    await new SqsQueue({ client, queueUrl }).send([
      { id: 'a', body: 'A' },
      { id: 'b', body: 'B' },
    ]);
    const calls = mock
      .commandCalls(SendMessageBatchCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.Id));
    expect(calls).toEqual([['a', 'b'], ['b']]);
  });

  // moto fails no entry for a reason of its own (SenderFault false).
  it('gives up on entries that keep failing with a RetryableError naming them and their codes', async () => {
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'b', SenderFault: false, Code: 'ServiceUnavailable' }],
    });
    const error = await new SqsQueue({ client, queueUrl }).send([{ id: 'b', body: 'B' }]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect(error?.message).toMatch(/tracks.*b \(ServiceUnavailable\)/);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });

  // moto refuses an entry (not the request) only for a DelaySeconds, which the adapter never sends.
  it('fails at once with a PermanentError when SQS refuses an entry (sender fault)', async () => {
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'a', MessageId: '1', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad character' }],
    });
    const error = await new SqsQueue({ client, queueUrl })
      .send([
        { id: 'a', body: 'A' },
        { id: 'b', body: 'B' },
      ])
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error?.message).toMatch(/refused entries b \(InvalidMessageContents: bad character\)/);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  // moto never throttles; its refusals (QueueDoesNotExist, InvalidBatchEntryId) are tested on it above.
  it('wraps a throttled request in a RetryableError naming the queue', async () => {
    mock.on(SendMessageBatchCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'RequestThrottled',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(new SqsQueue({ client, queueUrl }).send([{ id: 'a', body: 'A' }])).rejects.toThrow(
      expect.objectContaining({
        name: 'RetryableError',
        message: expect.stringMatching(/SendMessageBatch.*tracks.*RequestThrottled/),
      }),
    );
  });

  // moto answers every stale handle ReceiptHandleIsInvalid; SQS also answers these two.
  it('takes the other ways SQS reports a stale handle as nothing to change, and no other error', async () => {
    const queue = new SqsQueue({ client, queueUrl });
    for (const [name, message] of [
      ['MessageNotInflight', 'Message not inflight'],
      [
        'InvalidParameterValue',
        'Value h for parameter ReceiptHandle is invalid. Reason: Message does not exist',
      ],
    ]) {
      mock
        .on(ChangeMessageVisibilityCommand)
        .rejects(
          Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } }),
        );
      await expect(queue.changeVisibility('h', 5)).resolves.toBeUndefined();
    }
  });
});
