import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionNames, topology, triggersOf, type QueueName } from '../../infra/topology.js';
import { flowBlock, flowDiagram, flowMarkers } from '../../infra/topology-diagram.js';
import { busyRetrySeconds } from '../../services/transform/handler.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('infra/topology.ts', () => {
  it('has every queue drained by exactly one event source mapping', () => {
    for (const queue of Object.keys(topology.queues) as QueueName[]) {
      const consumers = triggersOf().filter(
        ({ trigger }) => trigger.kind === 'sqs' && trigger.queue === queue,
      );
      expect(consumers, queue).toHaveLength(1);
    }
  });

  it('names, for every function without a trigger, who invokes it; and no function has both', () => {
    for (const fn of functionNames) {
      const triggered = topology.triggers[fn].length > 0;
      expect(triggered !== fn in topology.directlyInvoked, fn).toBe(true);
    }
  });

  it("declares the transform's hand-back as the handler's own busyRetrySeconds, on the pipeline's clock", () => {
    expect(topology.queues.transformQueue).toMatchObject({
      handBackClock: 'pipeline',
      handBackSeconds: busyRetrySeconds,
    });
    // A provider's Retry-After is the provider's: never compressed locally.
    expect(topology.queues.trackQueue.handBackClock).toBe('provider');
  });

  it('retries an asynchronous invocation twice, as Lambda does', () => {
    expect(topology.asyncRetry.maxAttempts).toBe(3);
  });
});

describe('flowDiagram', () => {
  it('draws every function, queue, dead-letter queue, rule target and lake prefix of the topology', () => {
    const diagram = flowDiagram();
    expect(diagram.startsWith('flowchart LR\n')).toBe(true);
    for (const fn of functionNames) expect(diagram).toContain(`  ${fn}["${fn}<br/>`);
    for (const q of Object.values(topology.queues)) {
      expect(diagram).toContain(q.resource);
      expect(diagram).toContain(q.deadLetterQueue.resource);
      expect(diagram).toContain(`after ${q.maxReceiveCount} receives`);
    }
    expect(diagram).toContain('lake inbox/charts/*.csv');
    expect(diagram).toContain('"lake raw/"');
    expect(diagram).toContain('schedule cron(30 6 * * ? *)');
    expect(diagram).toContain('Stage Loaded / Transform Requested"| q_transformQueue');
  });

  it('follows the module: another batch size draws another label', () => {
    const changed = {
      ...topology,
      triggers: {
        ...topology.triggers,
        trackAttributes: [{ ...topology.triggers.trackAttributes[0], batchSize: 50 }],
      },
    } as unknown as typeof topology;
    expect(flowDiagram(changed)).toContain('batch 50, window 5 s');
    expect(flowDiagram(changed)).not.toEqual(flowDiagram());
  });

  it('is what docs/architecture.md holds between its flow markers, exactly', async () => {
    const doc = await readFile(path.join(root, 'docs', 'architecture.md'), 'utf8');
    const begin = doc.indexOf(flowMarkers.begin);
    const end = doc.indexOf(flowMarkers.end);
    expect(begin, 'the begin marker').toBeGreaterThanOrEqual(0);
    expect(end, 'the end marker, after the begin marker').toBeGreaterThan(begin);
    expect(doc.indexOf(flowMarkers.begin, begin + 1), 'one begin marker').toBe(-1);
    expect(doc.slice(begin + flowMarkers.begin.length, end).trim()).toBe(flowBlock().trim());
  });
});
