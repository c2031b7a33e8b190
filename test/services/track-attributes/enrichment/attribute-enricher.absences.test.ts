import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../../infra/sandbox/index.js';
import { AttributeCache } from '../../../../services/track-attributes/enrichment/attribute-cache.js';
import { SpotifyAccess } from '../../../../shared/spotify/access.js';
import { spotifyClientFor } from '../../../shared/spotify/sandbox-spotify-client.js';
import { enricherWith, freshLake } from './enricher-fixtures.js';

const day = '2026-03-02';

describe('Class: AttributeEnricher, what it learns of audio features a track goes without', () => {
  let sandbox: Sandbox;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => day });
    chart = sandbox.catalog.chartFor('global', day);
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(() => {
    sandbox.faults.clear();
    sandbox.stats.reset();
    sandbox.setAccessMode('extended');
  });

  it('caches that Spotify, the only source, has none for a track, and does not ask for them again', async () => {
    const withoutFeatures = chart.find((id) => sandbox.catalog.track(id)?.audioFeatures === null) as string;
    expect(withoutFeatures).toBeDefined();
    const store = freshLake();
    const { client } = spotifyClientFor(sandbox);
    await enricherWith({ spotify: client, store }).lookup([withoutFeatures], day);
    expect((await new AttributeCache(store).read([withoutFeatures])).get(withoutFeatures)).toMatchObject({
      featuresMissing: {
        reason: 'no audio features: spotify has no audio features for this track, then ReccoBeats is off',
      },
    });
    sandbox.stats.reset();

    const { results } = await enricherWith({ spotify: client, store }).lookup(
      [withoutFeatures],
      '2026-03-03',
    );

    expect(sandbox.stats.requests.audioFeatures).toBe(0);
    expect(results.get(withoutFeatures)).toMatchObject({ status: 'ok' });
  });

  it('does not cache an absence it only owes to a closed endpoint: another app may have them', async () => {
    sandbox.setAccessMode('development');
    const store = freshLake();
    const id = chart[0] as string;
    const access = new SpotifyAccess();
    const { client } = spotifyClientFor(sandbox);

    await enricherWith({ spotify: client, store, access }).lookup([id], day);
    // Asked once more with the endpoint known closed: it is still not asked, nor learned absent.
    await enricherWith({ spotify: client, store, access }).lookup([id], '2026-03-03');

    expect(sandbox.stats.requests.audioFeatures).toBe(0);
    expect((await new AttributeCache(store).read([id])).get(id)?.featuresMissing).toBeUndefined();
  });

  it('says a cached track without features has no source for them, with neither Spotify nor ReccoBeats', async () => {
    const id = chart[1] as string;
    const store = freshLake();
    const track = sandbox.catalog.track(id);
    await new AttributeCache(store).write([
      {
        trackId: id,
        metadata: {
          columns: { track_name: track?.name ?? 'x' },
          source: 'spotify',
          artists: [],
          fetchedOn: day,
        },
      },
    ]);

    const { results } = await enricherWith({ store }).lookup([id], day);

    expect(results.get(id)).toMatchObject({
      status: 'ok',
      attributes: {
        features_source: null,
        missing_reason: expect.stringContaining('not_found: no audio features: no source: ReccoBeats is off'),
      },
    });
  });
});
