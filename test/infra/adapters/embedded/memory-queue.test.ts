import { createHash } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryQueue, type MemoryQueueOptions } from '../../../../infra/adapters/embedded/memory-queue.js';
import { sqsEventFactory, shapeOf } from '../../../support/factories.js';
import { describeQueueContract } from '../../../shared/ports/queue.contract.js';

// At scale 1 the contract's visibility timeouts are 20-40 ms: on a busy CI machine a handler's
// turn can take longer than that, and a message it handled is delivered again. Five times those
// timings (the file takes about 4 s instead of 1) keep it out of the scheduler's reach.
describeQueueContract(
  'MemoryQueue',
  async (options) => {
    const dlq = options.maxReceiveCount === undefined ? undefined : new MemoryQueue({ name: 'contract-dlq' });
    const queue = new MemoryQueue({ name: 'contract', ...options, ...(dlq ? { deadLetterQueue: dlq } : {}) });
    return {
      queue,
      subscribe: (handler) => queue.subscribe(handler),
      deadLetters: async () =>
        (dlq?.peek() ?? []).map(({ messageId, body, receiveCount }) => ({ messageId, body, receiveCount })),
      idle: () => queue.idle(),
      cleanup: async () => {
        queue.stop();
        dlq?.stop();
      },
    };
  },
  { timeScale: 5 },
);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Class: MemoryQueue', () => {
  const queues: MemoryQueue[] = [];
  const make = (options: Partial<MemoryQueueOptions> = {}) => {
    const queue = new MemoryQueue({ name: 'tracks', ...options });
    queues.push(queue);
    return queue;
  };
  afterEach(() => {
    for (const queue of queues.splice(0)) queue.stop();
  });

  it.each([
    [{ batchSize: 0 }, /batchSize/],
    [{ batchSize: 10_001 }, /batchSize/],
    [{ name: 'has space' }, /name/],
    [{ maxReceiveCount: 3 }, /deadLetterQueue/],
    [{ visibilityTimeoutMs: -1 }, /visibilityTimeoutMs/],
  ])('rejects the options %j, naming them', (options, setting) => {
    expect(() => make(options)).toThrow(setting);
  });

  it('refuses to be its own dead-letter queue', () => {
    expect(() => make({ maxReceiveCount: 1, deadLetterQueue: make() })).toThrow(/own dead-letter queue/);
  });

  it('refuses repeated ids in one send, as SQS BatchEntryIdsNotDistinct, and enqueues nothing', async () => {
    const queue = make();
    await expect(
      queue.send([
        { id: 'a', body: '1' },
        { id: 'a', body: '2' },
      ]),
    ).rejects.toThrow(/BatchEntryIdsNotDistinct.*"a"/);
    expect(queue.depth()).toEqual({ visible: 0, inFlight: 0, running: 0, nextVisibleInMs: undefined });
  });

  it('refuses bodies SQS would refuse', async () => {
    await expect(make().send([{ id: 'a', body: 'nul \u0000 inside' }])).rejects.toThrow(
      /characters SQS accepts/,
    );
    await expect(make().send([{ id: 'a', body: '' }])).rejects.toThrow(/body/);
  });

  it('delivers records shaped as Lambda delivers SQS records', async () => {
    const queue = make({ region: 'eu-west-1', accountId: '123456789012' });
    const before = Date.now();
    await queue.send([{ id: 'x', body: '{"trackId":"4uLU6hMCjMI75M1A2tKUQC"}' }]);
    const events: SQSEvent[] = [];
    queue.subscribe(async (event) => void events.push(event));
    await queue.idle();
    const record = events[0]?.Records[0];
    expect(shapeOf(record)).toEqual(shapeOf(sqsEventFactory('x').Records[0]));
    expect(record).toMatchObject({
      body: '{"trackId":"4uLU6hMCjMI75M1A2tKUQC"}',
      md5OfBody: createHash('md5').update('{"trackId":"4uLU6hMCjMI75M1A2tKUQC"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:tracks',
      awsRegion: 'eu-west-1',
      messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SenderId: '123456789012' },
    });
    expect(record?.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThanOrEqual(before);
  });

  it('fills batches up to batchSize while batches run', async () => {
    const queue = make({ batchSize: 4, maxConcurrency: 2 });
    await queue.send([...'abcdefghij'].map((body, i) => ({ id: `m${i}`, body })));
    const sizes: number[] = [];
    queue.subscribe(async (event) => {
      sizes.push(event.Records.length);
      await sleep(5);
    });
    await queue.idle();
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('reports depth and lets a dead-letter queue be inspected and drained later', async () => {
    const dlq = make({ name: 'tracks-dlq' });
    const queue = make({ visibilityTimeoutMs: 10, maxReceiveCount: 1, deadLetterQueue: dlq });
    await queue.send([{ id: 'p', body: 'poison' }]);
    expect(queue.depth()).toEqual({ visible: 1, inFlight: 0, running: 0, nextVisibleInMs: undefined });
    let seenInFlight: unknown;
    queue.subscribe(async (event) => {
      seenInFlight = queue.depth();
      return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
    });
    await queue.idle();
    expect(seenInFlight).toMatchObject({ visible: 0, inFlight: 1, running: 1 });
    const [dead] = dlq.peek();
    expect(dead).toMatchObject({ body: 'poison', receiveCount: 1, deadLetterQueueSourceArn: queue.arn });

    const redriven: SQSEvent[] = [];
    dlq.subscribe(async (event) => void redriven.push(event));
    await dlq.idle();
    expect(redriven[0]?.Records[0]).toMatchObject({
      messageId: dead?.messageId,
      body: 'poison',
      attributes: { ApproximateReceiveCount: '2', DeadLetterQueueSourceArn: queue.arn },
    });
  });

  it('ignores a late success from a delivery that timed out: only the latest receipt deletes', async () => {
    const queue = make({ visibilityTimeoutMs: 30, maxConcurrency: 2 });
    const counts: string[] = [];
    queue.subscribe(async (event) => {
      const count = event.Records[0]!.attributes.ApproximateReceiveCount;
      counts.push(count);
      if (count === '1') await sleep(50); // succeeds, but after the message was delivered again
      if (count === '2') throw new Error('the second delivery fails');
    });
    await queue.send([{ id: 'a', body: 'a' }]);
    await queue.idle();
    expect(counts).toEqual(['1', '2', '3']);
  });

  it('is idle at once when empty, and not while messages wait for a subscriber', async () => {
    const queue = make();
    await queue.idle();
    await queue.send([{ id: 'a', body: 'a' }]);
    const settled = await Promise.race([queue.idle().then(() => 'idle'), sleep(30).then(() => 'waiting')]);
    expect(settled).toBe('waiting');
    queue.subscribe(async () => undefined);
    await queue.idle();
  });

  it('allows one subscriber at a time', () => {
    const queue = make();
    queue.subscribe(async () => undefined);
    expect(() => queue.subscribe(async () => undefined)).toThrow(/already has a subscriber/);
  });

  it('leaves no timer behind once stopped', async () => {
    // Fake timers count only the queue's own: the process's other timers (another test's, vitest's)
    // come and go on their own schedule, which made a count of real ones flaky on a busy machine.
    vi.useFakeTimers();
    try {
      const queue = make({ batchSize: 5, batchingWindowMs: 10_000, visibilityTimeoutMs: 10_000 });
      queue.subscribe(async () => {
        throw new Error('fails, so its message waits out the visibility timeout');
      });
      await queue.send([{ id: 'a', body: 'a' }]); // waits in the batching window
      await queue.send([{ id: 'b', body: 'b' }]); // still within the same window
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      queue.stop();
      expect(vi.getTimerCount()).toBe(0);

      const inFlight = make({ visibilityTimeoutMs: 10_000 });
      inFlight.subscribe(async () => {
        throw new Error('fails');
      });
      await inFlight.send([{ id: 'a', body: 'a' }]);
      await vi.advanceTimersByTimeAsync(5); // the batch fails; the visibility timer is armed
      expect(inFlight.depth().inFlight).toBe(1);
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      inFlight.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits on no timer once everything is handled, and leaves none when a batch fails after stop()', async () => {
    vi.useFakeTimers();
    try {
      const queue = make({ visibilityTimeoutMs: 10_000 });
      queue.subscribe(async () => undefined);
      await queue.send([{ id: 'a', body: 'a' }]);
      await vi.advanceTimersByTimeAsync(1);
      expect(queue.depth()).toEqual({ visible: 0, inFlight: 0, running: 0, nextVisibleInMs: undefined });
      expect(vi.getTimerCount()).toBe(0);

      let fail!: (error: Error) => void;
      const running = make({ name: 'running', visibilityTimeoutMs: 10_000 });
      running.subscribe(() => new Promise((_, reject) => (fail = reject)));
      await running.send([{ id: 'a', body: 'a' }]);
      await vi.advanceTimersByTimeAsync(1);
      expect(running.depth()).toMatchObject({ inFlight: 1, running: 1 });
      running.stop();
      fail(new Error('fails after the queue was stopped'));
      await vi.advanceTimersByTimeAsync(1);
      expect(running.depth()).toMatchObject({ inFlight: 1, running: 0 });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without a batching window, hands each send over at once instead of gathering it with the next', async () => {
    const queue = make({ batchSize: 10, maxConcurrency: 2 });
    const batches: string[][] = [];
    queue.subscribe(async (event) => {
      batches.push(event.Records.map((r) => r.body));
      await sleep(20);
    });
    await queue.send([{ id: 'a', body: 'a' }]);
    await queue.send([{ id: 'b', body: 'b' }]);
    await queue.idle();
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('never calls the handler with an empty batch when the only visible message goes to the dead-letter queue', async () => {
    const dlq = make({ name: 'tracks-dlq' });
    const queue = make({ visibilityTimeoutMs: 10, maxReceiveCount: 1, deadLetterQueue: dlq });
    const sizes: number[] = [];
    queue.subscribe(async (event) => {
      sizes.push(event.Records.length);
      throw new Error('always fails');
    });
    await queue.send([{ id: 'p', body: 'poison' }]);
    await queue.idle();
    expect(sizes).toEqual([1]);
    expect(dlq.peek().map((m) => m.body)).toEqual(['poison']);
  });

  it('keeps the first receive time across deliveries, after the time the message was sent', async () => {
    const queue = make({ visibilityTimeoutMs: 20 });
    await queue.send([{ id: 'a', body: 'a' }]);
    await sleep(60); // no subscriber yet: the message waits, unreceived
    const attributes: SQSEvent['Records'][number]['attributes'][] = [];
    queue.subscribe(async (event) => {
      attributes.push(event.Records[0]!.attributes);
      if (attributes.length === 1) throw new Error('transient');
    });
    await queue.idle();
    const [first, second] = attributes;
    expect(second?.ApproximateReceiveCount).toBe('2');
    expect(Number(first?.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(first?.SentTimestamp) + 30,
    );
    expect(second?.ApproximateFirstReceiveTimestamp).toBe(first?.ApproximateFirstReceiveTimestamp);
  });

  it('is not idle while a slow first delivery still runs, though a later delivery deleted its message', async () => {
    const queue = make({ visibilityTimeoutMs: 30, maxConcurrency: 2 });
    let firstEnded = false;
    queue.subscribe(async (event) => {
      if (event.Records[0]!.attributes.ApproximateReceiveCount !== '1') return;
      await sleep(300);
      firstEnded = true;
    });
    await queue.send([{ id: 'a', body: 'a' }]);
    await queue.idle();
    expect(firstEnded).toBe(true);
  });

  it.each([-1, 43_201, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a visibility change of %d seconds',
    async (seconds) => {
      await expect(make().changeVisibility('any-handle', seconds)).rejects.toThrow(RangeError);
    },
  );

  it('changes the visibility of the message its receipt handle names only; 0 shows it again at once', async () => {
    const queue = make({ visibilityTimeoutMs: 30_000 });
    const deliveries: string[] = [];
    queue.subscribe(async (event) => {
      deliveries.push(...event.Records.map((r) => r.body));
      await sleep(5); // a handler that does nothing would be called again within the same turn
      const b = event.Records.find((r) => r.body === 'b');
      if (b) await queue.changeVisibility(b.receiptHandle, 0);
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await queue.send([
      { id: 'a', body: 'a' },
      { id: 'b', body: 'b' },
    ]);
    await vi.waitFor(
      () => expect(deliveries.filter((body) => body === 'b').length).toBeGreaterThanOrEqual(3),
      {
        timeout: 10_000,
      },
    );
    queue.stop();
    expect(deliveries.filter((body) => body === 'a')).toEqual(['a']);
    // The longest visibility SQS allows, for a handle no message holds: accepted, and nothing changes.
    await queue.changeVisibility('not-a-receipt-handle', 43_200);
    const depth = queue.depth();
    expect(depth.nextVisibleInMs).toBeGreaterThan(20_000);
    expect(depth.nextVisibleInMs).toBeLessThanOrEqual(30_000);
  });

  it('hides a handed-back message for the seconds asked, times its handBackTimeScale', async () => {
    const scaled = make({ name: 'scaled', handBackTimeScale: 0.001 });
    const real = make({ name: 'real' });
    const deliveries: Record<string, number> = { scaled: 0, real: 0 };
    for (const queue of [scaled, real]) {
      queue.subscribe(async (event) => {
        deliveries[queue.name]! += 1;
        await queue.changeVisibility(event.Records[0]!.receiptHandle, 30);
        return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
      });
      await queue.send([{ id: '1', body: 'x' }]);
    }
    await sleep(150);
    // 30 s at a thousandth is 30 ms: delivered several times; at scale 1 it waits the 30 s.
    expect(deliveries.scaled).toBeGreaterThanOrEqual(3);
    expect(deliveries.real).toBe(1);
    expect(real.depth().nextVisibleInMs).toBeGreaterThan(29_000);
  });

  it('delivers a failed message again on time when the wall clock is set back meanwhile', async () => {
    const queue = make({ visibilityTimeoutMs: 50 });
    const wallClock = Date.now.bind(Date);
    const receives: number[] = [];
    queue.subscribe(async (event) => {
      receives.push(Number(event.Records[0]!.attributes.ApproximateReceiveCount));
      if (receives.length > 1) return;
      // NTP or a resumed machine sets the clock back an hour while the message is hidden.
      vi.spyOn(Date, 'now').mockImplementation(() => wallClock() - 3_600_000);
      throw new Error('transient');
    });
    try {
      await queue.send([{ id: 'a', body: 'a' }]);
      const timedOut = sleep(5_000).then(() => 'still hidden');
      expect(await Promise.race([queue.idle().then(() => 'delivered again'), timedOut])).toBe(
        'delivered again',
      );
      expect(receives).toEqual([1, 2]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it.each([0, -1, 2])('rejects a handBackTimeScale of %d', (handBackTimeScale) => {
    expect(() => make({ handBackTimeScale })).toThrow(/handBackTimeScale/);
  });
});
