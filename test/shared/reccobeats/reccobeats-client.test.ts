import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reccobeatsKnowsTrack, startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import { ProviderError } from '../../../shared/errors.js';
import type { RetryPolicy } from '../../../shared/http/json-client.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { ReccoBeatsClient, reccobeatsLimits } from '../../../shared/reccobeats/reccobeats-client.js';
import { spotifyIdOfHref } from '../../../shared/reccobeats/schemas.js';

const today = '2026-11-22';
const pastDay = '2024-03-01';
/** Retries that cost milliseconds: p-retry's backoff runs on real timers. */
const retry: RetryPolicy = { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 10_000 };

const hrefIds = (items: readonly unknown[]): (string | undefined)[] =>
  items.map((item) => spotifyIdOfHref((item as { href: string }).href));

describe('Class: ReccoBeatsClient', () => {
  let sandbox: Sandbox;
  /** Charting tracks ReccoBeats knows and has audio features for, in chart order. */
  let known: string[];
  /** A track ReccoBeats knows, released not long before `pastDay`: its popularity moves with the day. */
  let hit: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    known = sandbox.catalog
      .chartFor('global', today)
      .filter(
        (id) =>
          reccobeatsKnowsTrack(sandbox.catalog, id) && sandbox.catalog.track(id)?.audioFeatures !== null,
      );
    hit = sandbox.catalog
      .chartFor('global', pastDay)
      .find(
        (id) =>
          reccobeatsKnowsTrack(sandbox.catalog, id) &&
          (sandbox.catalog.track(id)?.releasedOn ?? '') > '2023-06-01',
      ) as string;
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  beforeEach(() => {
    sandbox.stats.reset();
    sandbox.faults.clear();
  });

  const clientFor = (options: { apiUrl?: string; sendAsOf?: boolean } = {}) => {
    const counter = new RequestCounter();
    const client = new ReccoBeatsClient({
      apiUrl: options.apiUrl ?? sandbox.reccobeatsUrl,
      counter,
      clock: systemClock,
      retry,
      sendAsOf: options.sendAsOf ?? true,
    });
    return { client, counter };
  };

  it('answers the tracks and the audio features of the ids asked, as ReccoBeats sent them', async () => {
    const { client, counter } = clientFor();
    const ids = known.slice(0, 5);

    const tracks = await client.tracks(ids, today);
    const features = await client.audioFeatures(ids, today);

    expect(new Set(hrefIds(tracks))).toEqual(new Set(ids));
    for (const track of tracks) expect(track).toHaveProperty('trackTitle');
    expect(new Set(hrefIds(features))).toEqual(new Set(ids));
    for (const f of features) expect(f).toHaveProperty('danceability');
    expect(sandbox.stats.requests).toMatchObject({ reccobeatsTracks: 1, reccobeatsAudioFeatures: 1 });
    expect(counter.snapshot()).toEqual({ reccobeats: 2 });
  });

  it('takes 1 to 40 ids a call, refusing others before any request', async () => {
    const { client } = clientFor();
    expect(reccobeatsLimits.idsPerCall).toBe(40);

    for (const call of [client.tracks.bind(client), client.audioFeatures.bind(client)]) {
      await expect(call([], today)).rejects.toThrow(
        new RangeError('ReccoBeats takes 1 to 40 ids a call, not 0'),
      );
      await expect(call(known.slice(0, 41), today)).rejects.toThrow(
        new RangeError('ReccoBeats takes 1 to 40 ids a call, not 41'),
      );
    }
    expect(sandbox.stats.total).toBe(0);

    expect(new Set(hrefIds(await client.tracks(known.slice(0, 40), today)))).toEqual(
      new Set(known.slice(0, 40)),
    );
    expect(await client.audioFeatures(known.slice(0, 1), today)).toHaveLength(1);
  });

  it('takes the API base with or without trailing slashes', async () => {
    for (const apiUrl of [`${sandbox.reccobeatsUrl}/`, `${sandbox.reccobeatsUrl}//`]) {
      const { client } = clientFor({ apiUrl });

      expect(hrefIds(await client.tracks(known.slice(0, 1), today))).toEqual(known.slice(0, 1));
      expect(hrefIds(await client.audioFeatures(known.slice(0, 1), today))).toEqual(known.slice(0, 1));
    }
  });

  it('sends the chart day when told to, and the sandbox answers as of that day', async () => {
    expect(hit).toBeDefined();
    const popularityOf = async (tracks: Promise<unknown[]>) =>
      ((await tracks)[0] as { popularity: number }).popularity;
    const then = sandbox.catalog.popularity(hit, pastDay);
    const now = sandbox.catalog.popularity(hit, today);
    expect(then).not.toBe(now);

    expect(await popularityOf(clientFor().client.tracks([hit], pastDay))).toBe(then);
    // Without a day, or without sendAsOf, the sandbox answers as of its today.
    expect(await popularityOf(clientFor().client.tracks([hit]))).toBe(now);
    expect(await popularityOf(clientFor({ sendAsOf: false }).client.tracks([hit], pastDay))).toBe(now);
  });

  it('names the endpoint in the error of a failing call', async () => {
    const { client } = clientFor();
    sandbox.faults.serverErrors({ provider: 'reccobeats' });

    const trackError = await client.tracks(known.slice(0, 1), today).catch((e: unknown) => e);
    const featuresError = await client.audioFeatures(known.slice(0, 1), today).catch((e: unknown) => e);

    expect(trackError).toBeInstanceOf(ProviderError);
    expect((trackError as Error).message).toBe('reccobeats GET /v1/track: HTTP 500');
    expect(trackError).toMatchObject({ provider: 'reccobeats', status: 500 });
    expect((featuresError as Error).message).toBe('reccobeats GET /v1/audio-features: HTTP 500');
  });
});
