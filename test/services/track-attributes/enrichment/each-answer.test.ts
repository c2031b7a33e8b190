import { describe, expect, it } from 'vitest';
import { isProviderFailure } from '../../../../services/track-attributes/enrichment/bisect.js';
import {
  eachAnswer,
  InFlightLookups,
  type AnswerLookup,
} from '../../../../services/track-attributes/enrichment/each-answer.js';
import {
  InvalidRecordError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
} from '../../../../shared/errors.js';
import type { LookupFailure } from '../../../../services/track-attributes/enrichment/lookup-session.js';

/** A call the test answers when it wants, so that two lookups overlap. */
const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
};

/** One lookup's calls and what it was handed, against an endpoint answering `{ id }` for each id but `left out`. */
const lookupOf = (
  ids: string[],
  inFlight: InFlightLookups,
  options: {
    before?: Promise<void>;
    fail?: (ids: readonly string[]) => Error | undefined;
    leftOut?: string;
  } = {},
) => {
  const calls: string[][] = [];
  const kept: unknown[] = [];
  const answered = new Map<string, unknown>();
  const failed = new Map<string, LookupFailure>();
  const lookup: AnswerLookup = {
    inFlight,
    ids,
    size: 2,
    endpoint: 'features',
    keep: (_endpoint, answers) => kept.push(...answers),
    fetch: async (part) => {
      calls.push([...part]);
      await options.before;
      const error = options.fail?.(part);
      if (error) throw error;
      return part.filter((id) => id !== options.leftOut).map((id) => ({ id }));
    },
    idOf: (item) => (item as { id: string }).id,
    onFailure: (id, failure) => failed.set(id, failure),
    // A closed endpoint (403) is the caller's to handle, as spotify-passes.ts does.
    rethrow: (error) => error instanceof ProviderRejectedError,
    onAnswer: (id, item) => answered.set(id, item),
  };
  return { lookup, calls, kept, answered, failed };
};

describe('eachAnswer, with lookups in flight shared (single-flight)', () => {
  it('asks once for an id two lookups want at once; each gets the answer and keeps it', async () => {
    const inFlight = new InFlightLookups();
    const { open, opened } = gate();
    const a = lookupOf(['t1', 't2', 't3'], inFlight, { before: opened, leftOut: 't3' });
    const b = lookupOf(['t2', 't3', 't4'], inFlight);

    const both = Promise.all([eachAnswer(a.lookup), eachAnswer(b.lookup)]);
    open();
    await both;

    expect(a.calls).toEqual([['t1', 't2'], ['t3']]);
    expect(b.calls).toEqual([['t4']]);
    expect([...b.answered]).toEqual([
      ['t4', { id: 't4' }],
      ['t2', { id: 't2' }],
      ['t3', undefined],
    ]);
    expect(b.kept).toEqual([{ id: 't4' }, { id: 't2' }]);
    expect(a.answered.get('t3')).toBeUndefined();
    expect(a.answered.has('t3')).toBe(true);
  });

  it('asks again once the lookup in flight has ended: it is no cache', async () => {
    const inFlight = new InFlightLookups();
    const a = lookupOf(['t1'], inFlight);
    await eachAnswer(a.lookup);
    const b = lookupOf(['t1'], inFlight);
    await eachAnswer(b.lookup);
    expect(b.calls).toEqual([['t1']]);
  });

  it('hands a provider failure of the call in flight to every lookup waiting for its ids', async () => {
    const inFlight = new InFlightLookups();
    const { open, opened } = gate();
    const failing = (part: readonly string[]) =>
      part.includes('t2') ? new ProviderError('features', 'features: HTTP 500') : undefined;
    const a = lookupOf(['t1', 't2'], inFlight, { before: opened, fail: failing });
    const b = lookupOf(['t2'], inFlight);

    const both = Promise.all([eachAnswer(a.lookup), eachAnswer(b.lookup)]);
    open();
    await both;

    expect(b.calls).toEqual([]);
    expect(a.failed.get('t2')).toEqual({ kind: 'provider_error', reason: 'features: HTTP 500' });
    expect(b.failed.get('t2')).toEqual(a.failed.get('t2'));
    expect(a.answered.get('t1')).toEqual({ id: 't1' });
  });

  it('throws to a waiting lookup what the call in flight threw (a closed endpoint), and leaves no id claimed', async () => {
    const inFlight = new InFlightLookups();
    const { open, opened } = gate();
    const closed = new ProviderRejectedError('features', 403, 'features: HTTP 403');
    const a = lookupOf(['t1', 't2', 't3'], inFlight, { before: opened, fail: () => closed });
    const b = lookupOf(['t3', 't4'], inFlight);

    const outcomes = Promise.allSettled([eachAnswer(a.lookup), eachAnswer(b.lookup)]);
    open();
    expect(await outcomes).toEqual([
      { status: 'rejected', reason: closed },
      { status: 'rejected', reason: closed },
    ]);

    const c = lookupOf(['t1', 't3'], inFlight);
    await eachAnswer(c.lookup);
    expect(c.calls).toEqual([['t1', 't3']]);
  });
});

describe('eachAnswer, with lookups in flight shared, when they handle errors differently', () => {
  it('hands a waiting lookup that takes the error for a provider failure the failure, not the error', async () => {
    const inFlight = new InFlightLookups();
    const { open, opened } = gate();
    const closed = new ProviderRejectedError('features', 403, 'features: HTTP 403');
    const a = lookupOf(['t1'], inFlight, { before: opened, fail: () => closed });
    // This lookup does not handle a closed endpoint itself: the 403 fails its id.
    const b = lookupOf(['t1'], inFlight);
    const waiting = { ...b.lookup, rethrow: () => false };

    const outcomes = Promise.allSettled([eachAnswer(a.lookup), eachAnswer(waiting)]);
    open();
    expect(await outcomes).toEqual([
      { status: 'rejected', reason: closed },
      { status: 'fulfilled', value: undefined },
    ]);
    expect(b.failed.get('t1')).toEqual({ kind: 'provider_error', reason: 'features: HTTP 403' });
  });

  it('throws to a waiting lookup an error of our own the lookup in flight threw', async () => {
    const inFlight = new InFlightLookups();
    const { open, opened } = gate();
    const bug = new TypeError('a bug');
    const a = lookupOf(['t1', 't2'], inFlight, { before: opened });
    // Its handling of t1's answer breaks: t2, answered in the same call, is never handed over.
    const breaking = {
      ...a.lookup,
      onAnswer: (id: string) => {
        if (id === 't1') throw bug;
      },
    };
    // A lookup that rethrows nothing itself (ReccoBeats' audio features).
    const b = lookupOf(['t2'], inFlight);
    const { rethrow: _none, ...waiting } = b.lookup;

    const outcomes = Promise.allSettled([eachAnswer(breaking), eachAnswer(waiting)]);
    open();
    expect(await outcomes).toEqual([
      { status: 'rejected', reason: bug },
      { status: 'rejected', reason: bug },
    ]);
    expect(b.failed.size).toBe(0);
  });
});

describe('eachAnswer, matching answers to ids', () => {
  const lookupAnswering = (answer: unknown[]) => {
    const answered = new Map<string, unknown>();
    const lookup: AnswerLookup = {
      ids: ['t1', 't2'],
      size: 50,
      endpoint: 'tracks',
      keep: () => undefined,
      fetch: async () => answer,
      idOf: (item) => (item as { id: unknown }).id,
      onFailure: () => undefined,
      onAnswer: (id, item) => answered.set(id, item),
    };
    return { lookup, answered };
  };

  it('skips what is no object in an answer (a null for an unknown id, a stray value)', async () => {
    const { lookup, answered } = lookupAnswering([null, 'text', 7, { id: 't1' }]);

    await eachAnswer(lookup);

    expect([...answered]).toEqual([
      ['t1', { id: 't1' }],
      ['t2', undefined],
    ]);
  });

  it('takes the first item answered for an id, when an answer has two', async () => {
    const { lookup, answered } = lookupAnswering([
      { id: 't2', n: 1 },
      { id: 't2', n: 2 },
    ]);

    await eachAnswer(lookup);

    expect(answered.get('t2')).toEqual({ id: 't2', n: 1 });
  });
});

describe('Function: isProviderFailure', () => {
  it('takes what a provider answered or failed to answer for a provider failure', () => {
    expect(isProviderFailure(new ProviderError('spotify', 'HTTP 500'))).toBe(true);
    expect(isProviderFailure(new ProviderRejectedError('spotify', 400, 'HTTP 400'))).toBe(true);
    expect(isProviderFailure(new RateLimitedError('spotify', 1_000, 'rate limited'))).toBe(true);
    expect(isProviderFailure(new InvalidRecordError('spotify answered no JSON'))).toBe(true);
  });

  it('takes an error of our own (a bug, the lake) for no provider failure', () => {
    expect(isProviderFailure(new TypeError('a bug'))).toBe(false);
    expect(isProviderFailure(new Error('the lake failed'))).toBe(false);
  });
});
