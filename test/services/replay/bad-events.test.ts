import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/replay/handler.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';

/**
 * The replay function's event comes from `chartflow replay --target aws` or from a person with the
 * AWS console: a malformed one must be refused, naming the field, before a claim is reset or an
 * object announced (docs/inputs.md, "Events").
 */
describe('Function: replay handler, given events that are not replay requests', () => {
  let root: string;
  let store: FsObjectStore;
  const claim = lakeKeys.claim('2026-11-01', 'global', '20261101T060000000Z-aaaaaaaa');
  const chartCsv = lakeKeys.manifest('2026-11-01', 'global');

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-replay-events-'));
    store = new FsObjectStore({ root });
    await store.put(claim, '{}');
    await store.put(chartCsv, 'chart\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const invoke = (event: unknown) => makeHandler({ store })(event, localContext('replay'));

  it.each([
    ['no date', {}, /^replay event: ✖ Invalid input: expected string, received undefined → at chartDate$/],
    ['a date that is not one', { chartDate: '2026-02-30' }, /^replay event: ✖ .+ → at chartDate$/],
    [
      'a chart id that is not one',
      { chartDate: '2026-11-01', chartId: '../global' },
      /^replay event: ✖ a chart id is lowercase letters, digits and - → at chartId$/,
    ],
    [
      'a field it does not know',
      { chartDate: '2026-11-01', chart: 'global' },
      /^replay event: ✖ Unrecognized key: "chart"$/,
    ],
    [
      'no object at all',
      'replay 2026-11-01',
      /^replay event: ✖ Invalid input: expected object, received string$/,
    ],
  ])('refuses %s, naming the field, and resets and announces nothing', async (_what, event, message) => {
    const before = (await store.list('')).map((o) => `${o.key} ${o.etag}`);

    const failure = invoke(event);

    await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(failure).rejects.toThrow(message);
    expect((await store.list('')).map((o) => `${o.key} ${o.etag}`)).toEqual(before);
    expect(await store.get(claim)).toBeDefined();
  });

  it('replays a well-formed request: the claim reset, the chart announced again', async () => {
    expect(await invoke({ chartDate: '2026-11-01', chartId: 'global' })).toEqual({
      claimsReset: 1,
      objectsReplayed: 1,
    });
    expect(await store.get(claim)).toBeUndefined();
    expect((await store.get(chartCsv))?.toString('utf8')).toBe('chart\n');
  });
});
