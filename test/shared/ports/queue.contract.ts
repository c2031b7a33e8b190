import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../../shared/ports/queue.js';

/** A consumer as Lambda runs it for an SQS event source. */
export type BatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

/** The queue and event source mapping settings a contract test asks for. */
export interface QueueFixtureOptions {
  readonly batchSize?: number;
  readonly batchingWindowMs?: number;
  readonly visibilityTimeoutMs?: number;
  /** When set, the fixture gives the queue a dead-letter queue with this redrive count. */
  readonly maxReceiveCount?: number;
  readonly maxConcurrency?: number;
}

/** What a contract run needs from an adapter: the queue, a way to consume it as Lambda would, and to look into it. */
export interface QueueFixture {
  readonly queue: Queue;
  subscribe(handler: BatchHandler): void;
  /** The messages in the dead-letter queue. */
  deadLetters(): Promise<{ messageId: string; body: string; receiveCount: number }[]>;
  /** Resolves once every message sent has been handled or dead-lettered. */
  idle(): Promise<void>;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const messages = (...bodies: string[]) => bodies.map((body, i) => ({ id: `m${i}`, body }));

/** One handler call as a test saw it. */
interface Delivery {
  readonly bodies: string[];
  readonly ids: string[];
  readonly counts: number[];
  readonly startedAt: number;
  endedAt?: number;
}

/** A handler that records its calls and answers through `respond`. */
const recorder = (
  respond: (
    event: SQSEvent,
    call: number,
  ) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void = () => undefined,
) => {
  const calls: Delivery[] = [];
  let running = 0;
  let maxRunning = 0;
  const handler: BatchHandler = async (event) => {
    const call: Delivery = {
      bodies: event.Records.map((r) => r.body),
      ids: event.Records.map((r) => r.messageId),
      counts: event.Records.map((r) => Number(r.attributes.ApproximateReceiveCount)),
      startedAt: performance.now(),
    };
    calls.push(call);
    maxRunning = Math.max(maxRunning, ++running);
    try {
      return await respond(event, calls.length);
    } finally {
      running -= 1;
      call.endedAt = performance.now();
    }
  };
  const deliveriesOf = (body: string) => calls.filter((c) => c.bodies.includes(body));
  return { handler, calls, deliveriesOf, maxRunning: () => maxRunning };
};

const failIds = (event: SQSEvent, failing: (body: string) => boolean): SQSBatchResponse => ({
  batchItemFailures: event.Records.filter((r) => failing(r.body)).map((r) => ({
    itemIdentifier: r.messageId,
  })),
});

/** How a contract run is timed. */
export interface QueueContractOptions {
  /**
   * Multiplies every duration of the contract: the settings it asks the fixture for, its handlers'
   * sleeps, its visibility changes and the bounds it checks. Timings are tens of milliseconds at 1;
   * a real service counts visibility in whole seconds, so its fixture runs at a scale that makes
   * them seconds (and rounds them up).
   */
  readonly timeScale?: number;
}

/**
 * What every {@link Queue} adapter and its event source mapping must do, as SQS and Lambda do it:
 * batching, visibility timeout, partial batch failures, redrive, at-least-once delivery.
 * Timings are tens of milliseconds; an adapter over a real service scales them with `timeScale`.
 */
export const describeQueueContract = (
  name: string,
  makeQueue: (options: QueueFixtureOptions) => Promise<QueueFixture>,
  { timeScale = 1 }: QueueContractOptions = {},
): void => {
  const t = (ms: number) => ms * timeScale;
  describe(`Queue contract: ${name}`, () => {
    let fixture: QueueFixture | undefined;
    const open = async (options: QueueFixtureOptions) => (fixture = await makeQueue(options));
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('hands over batches of at most batchSize, every message once', async () => {
      const q = await open({ batchSize: 4, maxConcurrency: 2 });
      const { handler, calls } = recorder(() => sleep(t(5)));
      await q.queue.send(messages(...'abcdefghij'));
      q.subscribe(handler);
      await q.idle();
      expect(Math.max(...calls.map((c) => c.bodies.length))).toBeLessThanOrEqual(4);
      expect(calls.flatMap((c) => c.bodies).sort()).toEqual([...'abcdefghij']);
    });

    it('gathers messages sent within the batching window into one batch', async () => {
      const q = await open({ batchSize: 10, batchingWindowMs: t(80) });
      const { handler, calls } = recorder();
      q.subscribe(handler);
      const sentAt = performance.now();
      await q.queue.send(messages('a', 'b'));
      await sleep(t(20));
      await q.queue.send(messages('c'));
      await q.idle();
      expect(calls.map((c) => c.bodies.sort())).toEqual([['a', 'b', 'c']]);
      expect(calls[0]!.startedAt - sentAt).toBeGreaterThanOrEqual(t(70));
    });

    it('hands over a full batch at once, without waiting for the window', async () => {
      const q = await open({ batchSize: 3, batchingWindowMs: t(5_000) });
      const { handler, calls } = recorder();
      q.subscribe(handler);
      const sentAt = performance.now();
      await q.queue.send(messages('a', 'b', 'c'));
      await q.idle();
      expect(calls).toHaveLength(1);
      expect(calls[0]!.startedAt - sentAt).toBeLessThan(t(1_000));
    });

    it('delivers a failed batch again after the visibility timeout, counting receives', async () => {
      const q = await open({ visibilityTimeoutMs: t(40) });
      const { handler, calls } = recorder((_, call) => {
        if (call === 1) throw new Error('transient');
      });
      q.subscribe(handler);
      await q.queue.send(messages('a', 'b'));
      await q.idle();
      expect(calls.map((c) => [c.bodies.sort(), c.counts])).toEqual([
        [
          ['a', 'b'],
          [1, 1],
        ],
        [
          ['a', 'b'],
          [2, 2],
        ],
      ]);
      expect(calls[1]!.startedAt - calls[0]!.startedAt).toBeGreaterThanOrEqual(t(35));
    });

    it('keeps a message hidden for as long as changeVisibility asks, then delivers it again', async () => {
      const q = await open({ visibilityTimeoutMs: t(20) });
      const { handler, calls } = recorder(async (event, call) => {
        if (call > 1) return undefined;
        // The provider said "come back later": hide the message well past its visibility timeout.
        await q.queue.changeVisibility(event.Records[0]!.receiptHandle, t(250) / 1000);
        return failIds(event, () => true);
      });
      q.subscribe(handler);
      await q.queue.send(messages('later'));
      await q.idle();
      expect(calls.map((c) => c.counts)).toEqual([[1], [2]]);
      expect(calls[1]!.startedAt - calls[0]!.startedAt).toBeGreaterThanOrEqual(t(240));
    });

    it('delivers again only the messages a partial batch failure names', async () => {
      const q = await open({ visibilityTimeoutMs: t(30) });
      const { handler, calls } = recorder((event, call) =>
        failIds(event, (body) => call === 1 && body === 'b'),
      );
      q.subscribe(handler);
      await q.queue.send(messages('a', 'b', 'c'));
      await q.idle();
      expect(calls.map((c) => [c.bodies.sort(), c.counts])).toEqual([
        [
          ['a', 'b', 'c'],
          [1, 1, 1],
        ],
        [['b'], [2]],
      ]);
    });

    it.each([
      ['an empty', () => ''],
      ['an unknown', () => 'not-a-message-id'],
    ])('fails the whole batch when batchItemFailures holds %s itemIdentifier', async (_, identifier) => {
      const q = await open({ visibilityTimeoutMs: t(30) });
      const { handler, calls } = recorder((_event, call) =>
        call === 1 ? { batchItemFailures: [{ itemIdentifier: identifier() }] } : undefined,
      );
      q.subscribe(handler);
      await q.queue.send(messages('a', 'b'));
      await q.idle();
      expect(calls.map((c) => c.bodies.sort())).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
    });

    it('moves a message that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
      const q = await open({ visibilityTimeoutMs: t(20), maxReceiveCount: 2 });
      const { handler, deliveriesOf } = recorder((event) => failIds(event, (body) => body === 'poison'));
      q.subscribe(handler);
      await q.queue.send(messages('good', 'poison'));
      await q.idle();
      expect(deliveriesOf('poison').map((c) => c.counts[c.bodies.indexOf('poison')])).toEqual([1, 2]);
      expect(deliveriesOf('good')).toHaveLength(1);
      const [first] = deliveriesOf('poison');
      const poisonId = first?.ids[first.bodies.indexOf('poison')];
      expect(await q.deadLetters()).toEqual([{ messageId: poisonId, body: 'poison', receiveCount: 2 }]);
    });

    it('delivers at least once: a handler slower than the visibility timeout sees its message again', async () => {
      const q = await open({ visibilityTimeoutMs: t(30), maxConcurrency: 2 });
      const { handler, calls } = recorder((_, call) => (call === 1 ? sleep(t(120)) : undefined));
      q.subscribe(handler);
      await q.queue.send(messages('slow'));
      await q.idle();
      expect(calls.map((c) => c.counts)).toEqual([[1], [2]]);
      // The second delivery started while the first still ran.
      expect(calls[1]!.startedAt).toBeLessThan(calls[0]!.endedAt!);
    });

    it('runs at most maxConcurrency batches at once', async () => {
      const q = await open({ batchSize: 1, maxConcurrency: 3 });
      const { handler, calls, maxRunning } = recorder(() => sleep(t(15)));
      q.subscribe(handler);
      await q.queue.send(messages(...'abcdefghijkl'));
      await q.idle();
      expect(calls).toHaveLength(12);
      expect(maxRunning()).toBe(3);
    });
  });
};
