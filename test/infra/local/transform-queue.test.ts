import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '../../../infra/local/run-summary.js';
import { localTimeScale } from '../../../infra/local/time-scale.js';
import { topology } from '../../../infra/topology.js';
import { busyRetrySeconds } from '../../../services/transform/handler.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import { startTestPipeline, type TestPipeline } from '../../support/pipeline.js';

const days = [
  { chartId: 'global', chartDate: '2026-09-01' },
  { chartId: 'global', chartDate: '2026-09-02' },
];

describe('The local transform is fed as on AWS: EventBridge rule → TransformQueue → makeQueueHandler', () => {
  let t: TestPipeline;
  let summaries: RunSummary[];
  let changeVisibility: ReturnType<typeof vi.spyOn>;
  let handedBackWhileHeld: number;
  let nextVisibleInMs: number | undefined;

  beforeAll(async () => {
    t = await startTestPipeline({ label: 'transform-queue' });
    const queue = t.pipeline.transformQueue;
    changeVisibility = vi.spyOn(queue, 'changeVisibility');
    // Another batch holds the warehouse when both days' loads come: both are handed back. Then
    // it lets go, and the two loads race for it.
    const lock = new TransformLock(t.pipeline.store, t.pipeline.clock);
    expect(await lock.acquire('a-batch-before')).toBe(true);
    const running = Promise.all(days.map((day) => t.pipeline.run(day)));
    while (changeVisibility.mock.calls.length < days.length) await new Promise((r) => setTimeout(r, 100));
    handedBackWhileHeld = changeVisibility.mock.calls.length;
    nextVisibleInMs = queue.depth().nextVisibleInMs;
    await lock.release('a-batch-before');
    summaries = await running;
  }, 300_000);
  afterAll(() => t?.stop());

  it('hands a load that finds the warehouse busy back to the queue for busyRetrySeconds, as declared', () => {
    expect(handedBackWhileHeld).toBeGreaterThanOrEqual(days.length);
    expect(topology.queues.transformQueue.handBackSeconds).toBe(busyRetrySeconds);
    for (const [handle, seconds] of changeVisibility.mock.calls) {
      expect(typeof handle).toBe('string');
      expect(seconds).toBe(busyRetrySeconds);
    }
  });

  it('lets every load through later: both days transformed, nothing dead-lettered, no failed invocation', () => {
    expect(summaries.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    for (const s of summaries) {
      expect(s.failedInvocations).toEqual([]);
      expect(s.rows.chartEntriesThisDay).toBeGreaterThan(0);
    }
    expect(t.pipeline.transformQueue.peek().map((m) => [m.receiveCount, m.body])).toEqual([]);
    expect(t.pipeline.transformQueue.depth()).toMatchObject({ visible: 0, inFlight: 0, running: 0 });
  });

  it('waits the declared minute on the local time scale', () => {
    expect(nextVisibleInMs).toBeGreaterThan(0);
    expect(nextVisibleInMs).toBeLessThanOrEqual(busyRetrySeconds * 1000 * localTimeScale);
  });
});
