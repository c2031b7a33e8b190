import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import { apiGet, requestToken, tokenFor } from './sandbox-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Sandbox: client credentials flow', () => {
  let sandbox: Sandbox;
  let someTrack: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ tokenTtlSeconds: 1, today: () => '2026-11-22' });
    someTrack = sandbox.catalog.chartFor('global', '2026-11-22')[0] as string;
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('issues a bearer token for the right credentials, which opens the API', async () => {
    const answer = await requestToken(
      sandbox,
      sandbox.credentials.clientId,
      sandbox.credentials.clientSecret,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 1 });
    expect(answer.body).not.toHaveProperty('refresh_token');

    const track = await apiGet(sandbox, answer.body.access_token as string, `/tracks/${someTrack}`);
    expect(track.status).toBe(200);
  });

  it('accepts the credentials in the form body instead of Basic auth', async () => {
    const response = await fetch(`${sandbox.accountsUrl}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sandbox.credentials.clientId,
        client_secret: sandbox.credentials.clientSecret,
      }).toString(),
    });
    expect(response.status).toBe(200);
  });

  it('refuses a wrong client id or secret with 400 invalid_client, as Spotify does', async () => {
    const wrongId = await requestToken(sandbox, 'nobody', sandbox.credentials.clientSecret);
    expect(wrongId.status).toBe(400);
    expect(wrongId.body).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });

    const wrongSecret = await requestToken(sandbox, sandbox.credentials.clientId, 'not-the-secret');
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a missing or unsupported grant type', async () => {
    const missing = await fetch(`${sandbox.accountsUrl}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type parameter is missing',
    });

    const other = await requestToken(
      sandbox,
      sandbox.credentials.clientId,
      sandbox.credentials.clientSecret,
      'password',
    );
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('answers 401 in Spotify’s error shape without a token or with an unknown one', async () => {
    const none = await apiGet(sandbox, undefined, `/tracks/${someTrack}`);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { status: 401, message: 'No token provided' } });

    const unknown = await apiGet(sandbox, 'BQnot-a-token', `/tracks/${someTrack}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ error: { status: 401, message: 'Invalid access token' } });
  });

  it('expires a token after its lifetime; a new one works again', async () => {
    const token = await tokenFor(sandbox);
    expect((await apiGet(sandbox, token, `/tracks/${someTrack}`)).status).toBe(200);

    await sleep(1_100);
    const expired = await apiGet(sandbox, token, `/tracks/${someTrack}`);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: { status: 401, message: 'The access token expired' } });

    expect((await apiGet(sandbox, await tokenFor(sandbox), `/tracks/${someTrack}`)).status).toBe(200);
  });

  it.each(['2026-13-01', 'yesterday', '2026-02-30', '22/11/2026'])(
    'answers 400 for a malformed as-of header (%s)',
    async (asOf) => {
      const answer = await apiGet(sandbox, await tokenFor(sandbox), `/tracks/${someTrack}`, asOf);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: { status: 400, message: 'Invalid x-chartflow-as-of header: expected a date as YYYY-MM-DD' },
      });
    },
  );

  it('counts requests per endpoint and refusals in its stats, and resets them', async () => {
    sandbox.stats.reset();
    const token = await tokenFor(sandbox);
    await apiGet(sandbox, token, `/tracks/${someTrack}`);
    await apiGet(sandbox, token, `/tracks?ids=${someTrack}`);
    await apiGet(sandbox, undefined, `/audio-features?ids=${someTrack}`);

    const quiet = {
      rateLimited: 0,
      quotaExceeded: 0,
      serverErrors: 0,
      malformedJson: 0,
      slowed: 0,
      restricted: 0,
    };
    expect(sandbox.stats.snapshot()).toEqual({
      requests: {
        token: 1,
        playlistItems: 0,
        tracks: 1,
        track: 1,
        audioFeatures: 1,
        reccobeatsTracks: 0,
        reccobeatsAudioFeatures: 0,
      },
      total: 4,
      rateLimited: 0,
      unauthorized: 1,
      byProvider: { spotify: { requests: 4, ...quiet }, reccobeats: { requests: 0, ...quiet } },
    });
    sandbox.stats.reset();
    expect(sandbox.stats.total).toBe(0);
  });
});

describe('Sandbox: credentials', () => {
  const sandboxes: Sandbox[] = [];

  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
  });

  it('derives its default credentials from the seed, and takes given ones instead', async () => {
    const [a, b, given] = await Promise.all([
      startSandbox({ seed: 3 }),
      startSandbox({ seed: 3 }),
      startSandbox({ seed: 3, clientId: 'my-client', clientSecret: 'my-secret' }),
    ]);
    sandboxes.push(a, b, given);
    expect(a.credentials).toEqual(b.credentials);
    expect(a.credentials.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(given.credentials).toEqual({ clientId: 'my-client', clientSecret: 'my-secret' });
    expect((await requestToken(given, 'my-client', 'my-secret')).status).toBe(200);
    expect((await requestToken(given, a.credentials.clientId, a.credentials.clientSecret)).status).toBe(400);
  });

  it('refuses malformed options', async () => {
    await expect(startSandbox({ tokenTtlSeconds: 0 })).rejects.toThrow();
    await expect(startSandbox({ rateLimit: { requests: 0, windowMs: 1000 } })).rejects.toThrow();
    await expect(startSandbox({ port: 70_000 })).rejects.toThrow();
  });
});
