import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxPlaylistId, startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import { apiGet, tokenFor } from './sandbox-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Sandbox: rate limit', () => {
  let sandbox: Sandbox;
  let token: string;
  let someTrack: string;
  const windowMs = 1_000;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateLimit: { requests: 5, windowMs } });
    token = await tokenFor(sandbox);
    someTrack = sandbox.catalog.chartFor('global', '2026-01-15')[0] as string;
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('answers 429 with Retry-After once the rolling window is full, across endpoints, then recovers', async () => {
    sandbox.stats.reset();
    const paths = [
      `/tracks/${someTrack}`,
      `/tracks?ids=${someTrack}`,
      `/audio-features?ids=${someTrack}`,
      `/playlists/${sandboxPlaylistId('br')}/items`,
      `/tracks/${someTrack}`,
    ];
    for (const path of paths) expect((await apiGet(sandbox, token, path, '2026-01-15')).status).toBe(200);

    const refused = await apiGet(sandbox, token, `/audio-features?ids=${someTrack}`, '2026-01-15');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(windowMs / 1000));

    // The token endpoint is the accounts service: not limited.
    expect((await tokenFor(sandbox)).length).toBeGreaterThan(0);

    expect(sandbox.stats.rateLimited).toBe(1);
    expect(sandbox.stats.requests.audioFeatures).toBe(2);

    await sleep(retryAfter * 1000 + 50);
    expect((await apiGet(sandbox, token, `/tracks/${someTrack}`, '2026-01-15')).status).toBe(200);
  });

  it('keeps refusing while a client ignores Retry-After, until the window rolls on', async () => {
    await sleep(windowMs + 50);
    sandbox.stats.reset();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1)
      statuses.push((await apiGet(sandbox, token, `/tracks/${someTrack}`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(sandbox.stats.rateLimited).toBe(7);

    await sleep(windowMs + 50);
    expect((await apiGet(sandbox, token, `/tracks/${someTrack}`)).status).toBe(200);
  });
});

describe('Sandbox: without a rate limit', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('answers every request when no limit is configured', async () => {
    const token = await tokenFor(sandbox);
    const track = sandbox.catalog.chartFor('global', '2026-01-15')[0] as string;
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => apiGet(sandbox, token, `/tracks/${track}`, '2026-01-15')),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(sandbox.stats.rateLimited).toBe(0);
  });
});
