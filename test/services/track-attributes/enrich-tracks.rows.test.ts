import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { enrichTracks, type DeliveredTrack } from '../../../services/track-attributes/enrich-tracks.js';
import type {
  AttributeProvider,
  LookupBatch,
} from '../../../services/track-attributes/enrichment/attribute-provider.js';
import { MissingBacklog } from '../../../shared/lake/backlog.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { fromStageCsv } from '../../../shared/records/csv.js';
import type { Manifest } from '../../../shared/records/messages.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { PutOptions } from '../../../shared/ports/object-store.js';

/** The lake on a temp folder, noting the content type each put asks for (the folder keeps none; S3 does). */
class RecordingStore extends FsObjectStore {
  readonly contentTypes = new Map<string, string | undefined>();

  override async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void> {
    this.contentTypes.set(key, options?.contentType);
    return super.put(key, body);
  }

  override async createIfAbsent(
    key: string,
    body: string | Uint8Array,
    options?: PutOptions,
  ): Promise<boolean> {
    this.contentTypes.set(key, options?.contentType);
    return super.createIfAbsent(key, body);
  }
}

/** A lake where a part's file that was there when created is gone when read back (deleted in between). */
class VanishingStore extends FsObjectStore {
  override async createIfAbsent(): Promise<boolean> {
    return false;
  }

  override async get(): Promise<Buffer | undefined> {
    return undefined;
  }
}

const now = new Date('2025-01-02T06:00:00.000Z');
const clock: Clock = { now: () => now, sleep: async () => undefined };
const chartDate = '2025-01-01';
const runId = 'run-000001';
const delivered = (trackId: string, chartId = 'global'): DeliveredTrack => ({
  messageId: `${chartId}-${trackId}`,
  receiveCount: 1,
  message: { runId, chartId, chartDate, trackId },
});

/** One lookup's answer for every kind of row: found, quarantined, failed for a quota or an error, and left out. */
const answer: LookupBatch = {
  results: new Map([
    [
      'found',
      {
        status: 'ok',
        attributes: { track_name: 'Found', popularity: 61, missing_reason: null },
        artists: [
          { artistId: 'lead', artistName: 'Lead' },
          { artistId: 'feat', artistName: 'Featured' },
        ],
      },
    ],
    ['broken', { status: 'quarantined', reason: 'provider_error: invalid track', raw: { id: 7 } }],
    ['limited', { status: 'missing', reason: 'quota: spotify tracks: rate limited' }],
    ['erred', { status: 'missing', reason: 'provider_error: spotify tracks: HTTP 500' }],
  ]),
  gaps: new Map([
    ['limited', [{ group: 'metadata', kind: 'quota', reason: 'quota: rate limited', retryAfterMs: 90_000 }]],
    // A provider error after a quota's Retry-After (features: Spotify's quota, then ReccoBeats failed) is asked again at once.
    [
      'erred',
      [
        {
          group: 'metadata',
          kind: 'provider_error',
          reason: 'provider_error: HTTP 500',
          retryAfterMs: 30_000,
        },
      ],
    ],
    // A quota without a Retry-After: no end to wait for.
    ['found', [{ group: 'features', kind: 'quota', reason: 'quota: no audio features' }]],
  ]),
  raw: { spotify_tracks: [] },
  quarantine: [{ trackId: 'broken', provider: 'spotify', reason: 'invalid track: id', raw: { id: 7 } }],
};

describe('Function: enrichTracks, the rows, quarantine and backlog of a part', () => {
  let home: string;
  let store: RecordingStore;
  const asked: string[][] = [];
  const provider: AttributeProvider = {
    lookup: async (trackIds) => {
      asked.push([...trackIds]);
      return answer;
    },
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-enrich-rows-'));
    store = new RecordingStore({ root: home });
    asked.length = 0;
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  const ids = ['found', 'broken', 'limited', 'erred', 'unanswered'];
  const csv = async (table: 'song_attributes' | 'song_artists', chartId = 'global') => {
    const part = partName(runId, ids);
    const key =
      table === 'song_attributes'
        ? lakeKeys.attributesCsv(chartDate, chartId, part)
        : lakeKeys.artistsCsv(chartDate, chartId, part);
    return fromStageCsv(table, (await store.get(key))!.toString('utf8'));
  };

  it('writes a row per track, its artists in order, and says of an id the provider left out that it gave no answer', async () => {
    const result = await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );

    expect(result).toEqual({ failedMessageIds: [], quarantined: 1, written: 5, backlogged: 3 });
    const rows = new Map((await csv('song_attributes')).map((r) => [r.track_id, r]));
    expect(rows.get('found')).toMatchObject({
      chart_id: 'global',
      chart_date: chartDate,
      run_id: runId,
      enrichment_status: 'ok',
      track_name: 'Found',
      popularity: '61',
      missing_reason: null,
    });
    expect(rows.get('broken')).toMatchObject({
      enrichment_status: 'quarantined',
      missing_reason: 'provider_error: invalid track',
      track_name: null,
    });
    expect(rows.get('unanswered')).toMatchObject({
      enrichment_status: 'missing',
      missing_reason: 'provider_error: the provider gave no answer for this id',
    });
    expect(await csv('song_artists')).toEqual([
      expect.objectContaining({
        track_id: 'found',
        artist_position: '1',
        artist_id: 'lead',
        artist_name: 'Lead',
      }),
      expect.objectContaining({
        track_id: 'found',
        artist_position: '2',
        artist_id: 'feat',
        artist_name: 'Featured',
      }),
    ]);
  });

  it('writes the CSVs as text/csv and the raw answer as JSON', async () => {
    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );

    const part = partName(runId, ids);
    expect(store.contentTypes.get(lakeKeys.attributesCsv(chartDate, 'global', part))).toBe('text/csv');
    expect(store.contentTypes.get(lakeKeys.artistsCsv(chartDate, 'global', part))).toBe('text/csv');
    expect(store.contentTypes.get(lakeKeys.attributesRaw(chartDate, 'global', part))).toBe(
      'application/json',
    );
  });

  it('fails the invocation, to be delivered again, when a part’s file vanishes between its write and its read', async () => {
    await expect(
      enrichTracks(
        ids.map((id) => delivered(id)),
        { store: new VanishingStore({ root: home }), provider, clock },
      ),
    ).rejects.toThrow(/was there a moment ago and is gone/);
  });

  it('does not mark a part whose run’s manifest is decided by reading files, or lacks one of its tracks', async () => {
    const manifest: Manifest = {
      runId,
      chartId: 'global',
      chartDate,
      source: 't',
      extractedAt: '2025-01-02T05:00:00.000Z',
      trackIds: ids,
      skipped: [],
      files: [],
    };
    const markers = async () =>
      store.list(lakeKeys.partMarkersPrefix(chartDate, 'global', runId, partName(runId, ids)));
    await store.put(lakeKeys.manifest(chartDate, 'global'), JSON.stringify(manifest));
    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );
    expect(await markers()).toEqual([]);

    await store.put(
      lakeKeys.manifest(chartDate, 'global'),
      JSON.stringify({ ...manifest, trackIds: ids.slice(1), chartCsvMd5: '0'.repeat(32) }),
    );
    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );
    expect(await markers()).toEqual([]);

    // With every track in a manifest that has its chart CSV's md5, the part is marked; delivered
    // again, it is not looked up again and counts nothing.
    await store.put(
      lakeKeys.manifest(chartDate, 'global'),
      JSON.stringify({ ...manifest, chartCsvMd5: '0'.repeat(32) }),
    );
    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );
    expect(await markers()).toHaveLength(1);
    asked.length = 0;
    expect(
      await enrichTracks(
        ids.map((id) => delivered(id)),
        { store, provider, clock },
      ),
    ).toEqual({ failedMessageIds: [], quarantined: 0, written: 0, backlogged: 0 });
    expect(asked).toEqual([]);
  });

  it('keeps each quarantined answer in the lake, with its reason, provider, run and track', async () => {
    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );

    const key = lakeKeys.quarantine('song_attributes', chartDate, 'global', `${runId}-broken-spotify`);
    expect(JSON.parse((await store.get(key))!.toString('utf8'))).toEqual({
      reason: 'invalid track: id',
      provider: 'spotify',
      runId,
      trackId: 'broken',
      raw: { id: 7 },
    });
    // Served as JSON by the object stores that keep a content type (S3).
    expect(store.contentTypes.get(key)).toBe('application/json');
  });

  it('backlogs the tracks with a gap, a quota until its Retry-After has passed, and clears the others', async () => {
    const backlog = new MissingBacklog(store);
    // An earlier run left a track in the backlog that this run's provider gives no gap for.
    await backlog.record([
      {
        trackId: 'unanswered',
        chartDate,
        chartId: 'global',
        runId: 'run-000000',
        recordedAt: '2025-01-01T06:00:00.000Z',
        gaps: [{ group: 'metadata', kind: 'provider_error', reason: 'provider_error: earlier' }],
      },
    ]);

    await enrichTracks(
      ids.map((id) => delivered(id)),
      { store, provider, clock },
    );

    const entries = new Map(
      (await backlog.list({ chartDate, chartId: 'global' })).map((e) => [e.trackId, e]),
    );
    expect([...entries.keys()].sort()).toEqual(['erred', 'found', 'limited']);
    expect(entries.get('limited')).toEqual({
      trackId: 'limited',
      chartDate,
      chartId: 'global',
      runId,
      recordedAt: now.toISOString(),
      gaps: [
        {
          group: 'metadata',
          kind: 'quota',
          reason: 'quota: rate limited',
          until: new Date(now.getTime() + 90_000).toISOString(),
        },
      ],
    });
    expect(entries.get('erred')?.gaps).toEqual([
      { group: 'metadata', kind: 'provider_error', reason: 'provider_error: HTTP 500' },
    ]);
    expect(entries.get('found')?.gaps).toEqual([
      { group: 'features', kind: 'quota', reason: 'quota: no audio features' },
    ]);
  });

  it('looks each (run, day, chart) group up on its own, and adds their counts', async () => {
    const result = await enrichTracks(
      [...ids.map((id) => delivered(id)), ...ids.map((id) => delivered(id, 'us'))],
      { store, provider, clock },
    );

    expect(asked).toEqual([ids, ids]);
    expect(result).toEqual({ failedMessageIds: [], quarantined: 2, written: 10, backlogged: 6 });
    expect((await csv('song_attributes', 'us')).map((r) => r.track_id)).toEqual(ids);
  });
});
