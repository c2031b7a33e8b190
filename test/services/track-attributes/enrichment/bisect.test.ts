import { describe, expect, it } from 'vitest';
import { ProviderError, ProviderRejectedError, RateLimitedError } from '../../../../shared/errors.js';
import { UnauthorizedError } from '../../../../shared/http/json-client.js';
import { bisectBatch, isEndpointError } from '../../../../services/track-attributes/enrichment/bisect.js';

const ids = (count: number) => Array.from({ length: count }, (_, i) => `id${i}`);

/** A fetch that fails every batch holding a poison id, and records every batch it was asked. */
const poisonedFetch = (
  poison: readonly string[],
  error: (batch: readonly string[]) => Error = (batch) =>
    new ProviderError('spotify', `HTTP 500 for ${batch.join(',')}`, 500),
) => {
  const asked: (readonly string[])[] = [];
  const fetch = async (batch: readonly string[]) => {
    asked.push(batch);
    if (batch.some((id) => poison.includes(id))) throw error(batch);
    return batch.map((id) => ({ id }));
  };
  return { asked, fetch };
};

const answeredIds = (answers: { ids: readonly string[] }[]) => answers.flatMap((a) => a.ids);

describe('Function: bisectBatch', () => {
  it('asks once and answers the whole batch when nothing fails', async () => {
    const { asked, fetch } = poisonedFetch([]);

    const { answers, failures } = await bisectBatch(ids(50), fetch);

    expect(asked).toEqual([ids(50)]);
    expect(answers).toEqual([{ ids: ids(50), answer: ids(50).map((id) => ({ id })) }]);
    expect(failures.size).toBe(0);
  });

  it('isolates one poison id: it fails alone, with its error, and every neighbour is answered once', async () => {
    const { asked, fetch } = poisonedFetch(['id17']);

    const { answers, failures } = await bisectBatch(ids(50), fetch);

    expect([...failures]).toEqual([['id17', 'HTTP 500 for id17']]);
    expect(answeredIds(answers).sort()).toEqual(
      ids(50)
        .filter((id) => id !== 'id17')
        .sort(),
    );
    for (const { ids: batch, answer } of answers) expect(answer).toEqual(batch.map((id) => ({ id })));
    // One failing call per level down to the single id, not one call per id.
    expect(asked.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(50)) + 1);
  });

  it('isolates two poison ids in different halves, and two side by side', async () => {
    for (const poison of [
      ['id3', 'id40'],
      ['id20', 'id21'],
    ]) {
      const { fetch } = poisonedFetch(poison);

      const { answers, failures } = await bisectBatch(ids(50), fetch);

      expect([...failures.keys()].sort()).toEqual([...poison].sort());
      expect(answeredIds(answers).sort()).toEqual(
        ids(50)
          .filter((id) => !poison.includes(id))
          .sort(),
      );
    }
  });

  it('fails every id alone when every id fails, after 2n-1 calls', async () => {
    const { asked, fetch } = poisonedFetch(ids(8));

    const { answers, failures } = await bisectBatch(ids(8), fetch);

    expect(answers).toEqual([]);
    expect([...failures.keys()]).toEqual(ids(8));
    expect(asked).toHaveLength(15);
  });

  it('stops and rethrows a RateLimitedError, whether the first call or a later one meets it', async () => {
    const limited = new RateLimitedError('spotify', 30_000, 'rate limited for 30000 ms');
    const first = poisonedFetch(ids(10), () => limited);
    await expect(bisectBatch(ids(10), first.fetch)).rejects.toBe(limited);
    expect(first.asked).toHaveLength(1);

    // A poison id splits the batch; the first part without it meets the rate limit: the search stops there.
    const asked: (readonly string[])[] = [];
    const later = bisectBatch(ids(10), async (batch) => {
      asked.push(batch);
      if (batch.includes('id2')) throw new ProviderError('spotify', 'HTTP 500', 500);
      throw limited;
    });
    await expect(later).rejects.toBe(limited);
    expect(asked).toEqual([ids(10), ids(5), ids(3), ['id0', 'id1']]);
  });

  it.each([
    ['401', new UnauthorizedError('spotify', 'HTTP 401')],
    ['403', new ProviderRejectedError('spotify', 403, 'HTTP 403')],
    ['404', new ProviderRejectedError('spotify', 404, 'HTTP 404')],
  ])('rethrows an endpoint error (%s) after one call instead of trying id by id', async (_, error) => {
    const { asked, fetch } = poisonedFetch(ids(10), () => error);

    await expect(bisectBatch(ids(10), fetch)).rejects.toBe(error);
    expect(asked).toHaveLength(1);
  });

  it('bisects a 400, which can be one bad id', async () => {
    const { fetch } = poisonedFetch(
      ['id4'],
      () => new ProviderRejectedError('spotify', 400, 'HTTP 400 invalid id'),
    );

    const { failures } = await bisectBatch(ids(10), fetch);

    expect([...failures]).toEqual([['id4', 'HTTP 400 invalid id']]);
  });

  it.each([
    ['a bug of ours', () => new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['the lake failing', () => new Error('EIO: i/o error, write')],
  ])(
    'lets %s go up at once, unsplit: it is no id’s failure and must fail the invocation',
    async (_, error) => {
      const { asked, fetch } = poisonedFetch(['id3'], error);

      await expect(bisectBatch(ids(8), fetch)).rejects.toThrow(error().message);

      expect(asked).toEqual([ids(8)]);
    },
  );

  it('asks nothing for no ids', async () => {
    const { asked, fetch } = poisonedFetch([]);

    const { answers, failures } = await bisectBatch([], fetch);

    expect(asked).toEqual([]);
    expect(answers).toEqual([]);
    expect(failures.size).toBe(0);
  });
});

describe('Function: isEndpointError', () => {
  it.each([
    { what: 'a rate limit', error: new RateLimitedError('spotify', 1_000, 'limited'), expected: true },
    { what: 'a 401', error: new UnauthorizedError('spotify', 'HTTP 401'), expected: true },
    { what: 'a 403', error: new ProviderRejectedError('spotify', 403, 'HTTP 403'), expected: true },
    { what: 'a 404', error: new ProviderRejectedError('spotify', 404, 'HTTP 404'), expected: true },
    { what: 'a 400', error: new ProviderRejectedError('spotify', 400, 'HTTP 400'), expected: false },
    { what: 'a 500', error: new ProviderError('spotify', 'HTTP 500', 500), expected: false },
    { what: 'any other error', error: new Error('boom'), expected: false },
  ])('answers $expected for $what', ({ error, expected }) => {
    expect(isEndpointError(error)).toBe(expected);
  });
});
