import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { LocalEventBus } from '../../../infra/adapters/embedded/local-event-bus.js';
import { localStackReferences } from '../../../infra/local/functions.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { detailOf, toEnvelope } from '../../../shared/events/bus-event.js';
import type { Clock } from '../../../shared/ports/clock.js';

const clock: Clock = { now: () => new Date('2025-01-02T03:04:05.678Z'), sleep: async () => undefined };
const stageLoaded = z.object({ date: z.string(), rows: z.number().int() });
const meta = { id: 'e1', time: clock.now(), region: 'eu-west-1', account: '123456789012' };

describe('Function: detailOf', () => {
  it('reads the detail of what the local bus delivers, an envelope Powertools takes for EventBridge', async () => {
    const bus = new LocalEventBus(clock, localStackReferences);
    const delivered: unknown[] = [];
    bus.on({ bus: 'stack', pattern: { source: ['chartflow'], 'detail-type': ['Stage Loaded'] } }, (event) =>
      delivered.push(event),
    );
    await bus.publish({
      source: 'chartflow',
      detailType: 'Stage Loaded',
      detail: { date: '2025-01-02', rows: 3 },
    });

    expect(delivered).toHaveLength(1);
    expect(EventBridgeSchema.parse(delivered[0])).toMatchObject({
      source: 'chartflow',
      'detail-type': 'Stage Loaded',
      time: '2025-01-02T03:04:05.678Z',
    });
    expect(detailOf(delivered[0], 'Stage Loaded', stageLoaded)).toEqual({ date: '2025-01-02', rows: 3 });
  });

  it.each([
    ['no EventBridge event', { detail: {} }, /^EventBridge event: ✖ .* → at version; /],
    [
      'an envelope whose time is no datetime',
      { ...toEnvelope({ source: 'chartflow', detailType: 'Stage Loaded', detail: {} }, meta), time: 'now' },
      /^EventBridge event: ✖ Invalid ISO datetime → at time$/,
    ],
    [
      'an event of another type',
      toEnvelope({ source: 'chartflow', detailType: 'Transform Requested', detail: {} }, meta),
      /^EventBridge event: expected "Stage Loaded", got "Transform Requested"$/,
    ],
    [
      'a detail that does not match',
      toEnvelope(
        { source: 'chartflow', detailType: 'Stage Loaded', detail: { date: '2025-01-02', rows: 1.5 } },
        meta,
      ),
      /^Stage Loaded detail: ✖ Invalid input: expected int, received number → at rows$/,
    ],
  ])('refuses %s, naming what is wrong', (_, event, message) => {
    expect(() => detailOf(event, 'Stage Loaded', stageLoaded)).toThrow(InvalidRecordError);
    expect(() => detailOf(event, 'Stage Loaded', stageLoaded)).toThrow(message);
  });
});

describe('Function: toEnvelope', () => {
  it('wraps an event as EventBridge delivers one put on a bus: version 0, no resources', () => {
    expect(
      toEnvelope({ source: 'chartflow', detailType: 'Stage Loaded', detail: { rows: 3 } }, meta),
    ).toEqual({
      version: '0',
      id: 'e1',
      source: 'chartflow',
      'detail-type': 'Stage Loaded',
      account: '123456789012',
      region: 'eu-west-1',
      time: '2025-01-02T03:04:05.678Z',
      resources: [],
      detail: { rows: 3 },
    });
  });
});
