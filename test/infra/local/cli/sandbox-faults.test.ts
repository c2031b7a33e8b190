import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { sandboxPlaylistIds } from '../../../../infra/sandbox/catalog.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { systemClock } from '../../../../shared/ports/clock.js';

/** `chartflow sandbox` in-process: what it printed, and how to stop it. */
const startCli = async (args: string[]) => {
  const out: string[] = [];
  const notes: string[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const context: CliContext = {
    config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent' }),
    clock: systemClock,
    processEnv: {},
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
  };
  const exited = main(['node', 'chartflow', 'sandbox', ...args], context, () => stopped);
  return { out, notes, exited, stop };
};

const valueOf = (printed: string, name: string) => new RegExp(`${name}=(\\S+)`).exec(printed)![1]!;

describe('Function: chartflow sandbox --fault and --fail-tracks, over real HTTP', () => {
  let running: Awaited<ReturnType<typeof startCli>> | undefined;
  afterEach(async () => {
    running?.stop();
    await running?.exited;
    running = undefined;
  });

  it('answers each switched-on fault as it says, and the rest as usual', async () => {
    running = await startCli([
      '--fault',
      'spotify:tracks:5xx=503',
      '--fault',
      'spotify:audio-features:malformed',
      '--fault',
      'spotify:track:slow=400,next=1',
      '--fault',
      'reccobeats:track:quota=3600',
      '--fail-tracks',
      '0000000000000000000000',
      '--fail-tracks',
      '1111111111111111111111,2222222222222222222222@reccobeats',
    ]);
    await expect.poll(() => running!.out.length).toBe(1);
    const printed = running.out[0]!;
    expect(printed).toContain('Faults switched on:');
    expect(printed).toContain('  spotify tracks: 503 server errors');
    expect(printed).toContain('  reccobeats reccobeatsTracks: quota exceeded (429, Retry-After 3600 s)');

    const api = valueOf(printed, 'SPOTIFY_API_URL');
    const reccobeats = valueOf(printed, 'RECCOBEATS_API_URL');
    const basic = Buffer.from(
      `${valueOf(printed, 'SPOTIFY_CLIENT_ID')}:${valueOf(printed, 'SPOTIFY_CLIENT_SECRET')}`,
    ).toString('base64');
    const token = (await (
      await fetch(`${valueOf(printed, 'SPOTIFY_ACCOUNTS_URL')}/api/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    ).json()) as { access_token: string };
    const get = (url: string) => fetch(url, { headers: { authorization: `Bearer ${token.access_token}` } });

    // The playlist endpoint has no fault: it names the tracks to ask about.
    const playlist = (await (
      await get(`${api}/playlists/${sandboxPlaylistIds.global}/items?limit=2`)
    ).json()) as {
      items: { item?: { id: string }; track?: { id: string } }[];
    };
    const [a, b] = playlist.items.map((i) => (i.item ?? i.track)!.id) as [string, string];

    expect((await get(`${api}/tracks?ids=${a}`)).status).toBe(503);

    const features = await get(`${api}/audio-features?ids=${a}`);
    expect(features.status).toBe(200);
    const body = await features.text();
    expect(() => JSON.parse(body)).toThrow();

    const started = performance.now();
    expect((await get(`${api}/tracks/${a}`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);

    const quota = await get(`${reccobeats}/track?ids=${a}`);
    expect(quota.status).toBe(429);
    expect(Number(quota.headers.get('retry-after'))).toBeGreaterThan(3500);
    expect(await quota.text()).toContain('QUOTA_EXCEEDED');

    expect((await get(`${reccobeats}/audio-features?ids=1111111111111111111111`)).status).toBe(500);
    expect((await get(`${reccobeats}/audio-features?ids=${b}`)).status).toBe(200);
    expect((await get(`${api}/tracks/0000000000000000000000`)).status).toBe(500);
  });

  it.each([
    [
      '--fault',
      'spotfy:tracks:5xx',
      '--fault spotfy:tracks:5xx: "spotfy" is not a provider (spotify, reccobeats).',
    ],
    [
      '--fault',
      'spotify:playlist:5xx',
      '--fault spotify:playlist:5xx: "playlist" is not an endpoint of spotify (token, playlists, tracks, track, audio-features).',
    ],
    [
      '--fault',
      'spotify:tracks:5xx=418',
      '--fault spotify:tracks:5xx=418: 5xx=<status> must be 500, 502, 503 or 504.',
    ],
    [
      '--fault',
      'spotify:tracks:slow',
      '--fault spotify:tracks:slow: slow=<ms> needs a delay of 1 to 600000 ms.',
    ],
    [
      '--fault',
      'reccobeats:quota,next=2',
      '--fault reccobeats:quota,next=2: a quota lasts until it lifts: no next=<n>.',
    ],
    [
      '--fault',
      'spotify:tracks:5xx,every=0',
      '--fault spotify:tracks:5xx,every=0: every must be at least 1.',
    ],
    [
      '--fail-tracks',
      'abc@spotify',
      '--fail-tracks abc@spotify: "abc" is not a Spotify track id (22 letters and digits).',
    ],
    [
      '--fail-tracks',
      '0000000000000000000000@deezer',
      '--fail-tracks 0000000000000000000000@deezer: "deezer" is not a provider (spotify, reccobeats).',
    ],
  ])('refuses %s %s with a clear message and exit 2', async (flag, spec, message) => {
    const cli = await startCli([flag, spec]);
    expect(await cli.exited).toBe(2);
    expect(cli.notes).toEqual([`chartflow: ${message}`]);
    expect(cli.out).toEqual([]);
  });
});
