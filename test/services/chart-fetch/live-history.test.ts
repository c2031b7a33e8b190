import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { EnvSecrets } from '../../../infra/adapters/embedded/env-secrets.js';
import { MemoryQueue } from '../../../infra/adapters/embedded/memory-queue.js';
import { buildProviders } from '../../../infra/providers/build-providers.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { sandboxPlaylistIds } from '../../../infra/sandbox/catalog.js';
import { startSandbox, type Sandbox } from '../../../infra/sandbox/server.js';
import { makeHandler } from '../../../services/chart-fetch/handler.js';
import { defaultRateLimits } from '../../../shared/config/config.js';
import { PermanentError } from '../../../shared/errors.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { SecretName } from '../../../shared/ports/secrets.js';

const clock: Clock = {
  now: () => new Date('2026-11-22T06:30:00.000Z'),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
const today = '2026-11-22';
const yesterday = '2026-11-21';

describe('Function: chart-fetch refuses a past day from a playlist, which captures only today', () => {
  let sandbox: Sandbox;
  let root: string;
  let store: FsObjectStore;
  let queue: MemoryQueue;

  beforeAll(async () => {
    sandbox = await startSandbox({ clock });
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-live-history-'));
    store = new FsObjectStore({ root });
    queue = new MemoryQueue({ name: 'chartflow-tracks-test' });
  });
  afterEach(async () => {
    queue.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** chart-fetch as AWS builds it (infra/aws/functions/providers.ts: no as-of day sent), or as the sandbox's history is read. */
  const handlerFor = (history: boolean) =>
    makeHandler({
      store,
      queue,
      clock,
      charts: ['global'],
      source: buildProviders({
        spotify: {
          apiUrl: sandbox.apiUrl,
          accountsUrl: sandbox.accountsUrl,
          secrets: new EnvSecrets({ [SecretName.spotify]: JSON.stringify(sandbox.credentials) }),
        },
        reccobeats: undefined,
        rateLimits: defaultRateLimits,
        playlists: { global: sandboxPlaylistIds.global },
        sourceName: history ? 'sandbox-playlist' : 'spotify-playlist',
        sendAsOf: history,
        store,
        counter: new RequestCounter(),
        clock,
      }).chartSource,
    });
  const scheduled = (day: string) => ({
    version: '0',
    id: 'e1',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: `${day}T06:30:00Z`,
    region: 'eu-west-1',
    resources: [],
    detail: {},
  });
  const lakeKeysNow = async () => (await store.list('')).map((o) => o.key);

  it('refuses a scheduled event for a past day with a permanent error, and writes and sends nothing', async () => {
    const before = sandbox.stats.total;
    const refused = handlerFor(false)(scheduled(yesterday), localContext('chart-fetch'));

    await expect(refused).rejects.toBeInstanceOf(PermanentError);
    await expect(refused).rejects.toThrow(
      `${yesterday} is not today (${today} UTC), and a playlist captures only today`,
    );
    expect(await lakeKeysNow()).toEqual([]);
    expect(queue.depth().visible).toBe(0);
    // Refused before the playlist was even asked for.
    expect(sandbox.stats.total).toBe(before);
  });

  it('refuses a direct event naming a past day, pointing to chartflow ingest', async () => {
    await expect(
      handlerFor(false)({ chartDate: yesterday, chartId: 'global' }, localContext('chart-fetch')),
    ).rejects.toThrow(/Load past days from Spotify Charts CSV files with "chartflow ingest"/);
    expect(await lakeKeysNow()).toEqual([]);
  });

  it("lands today's playlist as it always did", async () => {
    const [result] = await handlerFor(false)(scheduled(today), localContext('chart-fetch'));

    expect(result).toMatchObject({ chartId: 'global', chartDate: today });
    expect(result!.entries).toBeGreaterThan(0);
  });

  it('lands a past day from the sandbox, which has history', async () => {
    const [result] = await handlerFor(true)(scheduled(yesterday), localContext('chart-fetch'));

    expect(result).toMatchObject({ chartId: 'global', chartDate: yesterday });
    expect(result!.entries).toBeGreaterThan(0);
  });
});
