import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RequestCounter, tallyRequests } from '../../../shared/http/request-counter.js';

describe('Function: tallyRequests', () => {
  it('counts the requests each piece of work made itself, though they run at once and share a counter', async () => {
    const counter = new RequestCounter();
    const work = (provider: string, requests: number, gapMs: number) => async () => {
      for (let i = 0; i < requests; i += 1) {
        await sleep(gapMs);
        counter.record(provider);
      }
      return provider;
    };
    const [a, b, c] = await Promise.all([
      tallyRequests(work('spotify', 5, 3)),
      tallyRequests(work('spotify', 2, 5)),
      tallyRequests(async () => {
        await Promise.all([work('reccobeats', 3, 2)(), work('spotify', 1, 1)()]);
        return 'both';
      }),
    ]);
    // Outside any tally, a request still counts for the process.
    counter.record('spotify');
    expect([a.value, a.requests]).toEqual(['spotify', { spotify: 5 }]);
    expect(b.requests).toEqual({ spotify: 2 });
    expect(c.requests).toEqual({ reccobeats: 3, spotify: 1 });
    expect(counter.snapshot()).toEqual({ reccobeats: 3, spotify: 9 });
  });

  it('answers no requests for work that made none', async () => {
    expect(await tallyRequests(async () => 42)).toEqual({ value: 42, requests: {}, throttled: {} });
  });
});
