import { describe, expect, it } from 'vitest';
import type { CachedTrack } from '../../../../services/track-attributes/enrichment/attribute-cache.js';
import {
  featuresRecheckDays,
  LookupSession,
} from '../../../../services/track-attributes/enrichment/lookup-session.js';
import { columnNames } from '../../../../shared/records/stage-tables.js';

const day = '2026-03-02';
const daysAfter = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const metadata = (name: string): NonNullable<CachedTrack['metadata']> => ({
  columns: { track_name: name, duration_ms: 200_000, isrc: null },
  source: 'spotify',
  artists: [{ artistId: 'Ar1', artistName: 'Artist One' }],
  fetchedOn: '2026-01-01',
});
const features: NonNullable<CachedTrack['features']> = {
  columns: { danceability: 0.5, tempo: 120 },
  source: 'reccobeats',
  fetchedOn: '2026-01-01',
};

/** A session over ids a, b, c, d whose cache knows: a in full, b without features, c with none to find. */
const sessionOn = (chartDate: string, absenceLearnedOn = daysAfter(day, -1)) =>
  new LookupSession(
    ['a', 'b', 'c', 'd'],
    chartDate,
    new Map<string, CachedTrack>([
      ['a', { trackId: 'a', metadata: metadata('A'), features }],
      ['b', { trackId: 'b', metadata: metadata('B') }],
      [
        'c',
        {
          trackId: 'c',
          metadata: metadata('C'),
          featuresMissing: { reason: 'no audio features: reccobeats has none', fetchedOn: absenceLearnedOn },
        },
      ],
    ]),
  );

describe('Class: LookupSession', () => {
  it("names every song_attributes column on a track's row but the lineage, the id and the status, and no other", () => {
    const session = sessionOn(day);
    const { results } = session.results();
    const beyondRow = ['chart_id', 'chart_date', 'run_id', 'extracted_at', 'track_id', 'enrichment_status'];

    const a = results.get('a');
    expect(a?.status).toBe('ok');
    if (a?.status !== 'ok') return;
    expect(Object.keys(a.attributes).sort()).toEqual(
      columnNames('song_attributes')
        .filter((c) => !beyondRow.includes(c))
        .sort(),
    );
    expect(a.attributes).toMatchObject({
      track_name: 'A',
      danceability: 0.5,
      tempo: 120,
      features_source: 'reccobeats',
    });
  });

  it('starts from the cache: features are needed only for known tracks without them or a recorded absence', () => {
    const session = sessionOn(day);

    expect(session.needingFeatures()).toEqual(['b']);
    expect(session.idsWhere((k) => !k.metadata)).toEqual(['d']);
  });

  it('trusts a recorded absence for featuresRecheckDays, then asks again', () => {
    const learned = '2026-01-10';

    expect(sessionOn(daysAfter(learned, featuresRecheckDays - 1), learned).needingFeatures()).toEqual(['b']);
    expect(sessionOn(daysAfter(learned, featuresRecheckDays), learned).needingFeatures()).toEqual(['b', 'c']);
  });

  it('trusts an absence learned on 2026-01-10 on the 29th day after, and asks again on the 30th and 31st', () => {
    // Dates written out, not derived from the constant: a change of the 30 days fails here.
    const learned = '2026-01-10';
    expect(sessionOn('2026-02-08', learned).needingFeatures()).toEqual(['b']); // 29 days
    expect(sessionOn('2026-02-09', learned).needingFeatures()).toEqual(['b', 'c']); // 30 days
    expect(sessionOn('2026-02-10', learned).needingFeatures()).toEqual(['b', 'c']); // 31 days
  });

  it('says a recorded absence on the row, once, with its reason as recorded', () => {
    const session = sessionOn(day);
    session.recallKnownAbsences();

    const row = session.results().results.get('c');
    expect(row).toMatchObject({
      status: 'ok',
      // Reasons cached before kinds were recorded: a known absence is `not_found`.
      attributes: {
        missing_reason: 'not_found: no audio features: reccobeats has none; not_found: no popularity',
      },
    });
  });

  it('puts what Spotify said first in the reason a track goes without features', () => {
    const session = sessionOn(day);
    session.noteSpotifyFeatures('b', 'spotify has no audio features for this track');

    expect(session.missFeatures('b', 'ReccoBeats is off')).toBe(
      'no audio features: spotify has no audio features for this track, then ReccoBeats is off',
    );
    expect(session.missFeatures('a', 'reccobeats failed: HTTP 500', { kind: 'provider_error' })).toBe(
      'no audio features: reccobeats failed: HTTP 500',
    );
    expect(session.of('b').missing).toEqual([
      'not_found: no audio features: spotify has no audio features for this track, then ReccoBeats is off',
    ]);
    // Only what is worth asking again is a gap, for the backlog.
    expect(session.of('b').gaps).toEqual([]);
    expect(session.of('a').gaps).toEqual([
      {
        group: 'features',
        kind: 'provider_error',
        reason: 'provider_error: no audio features: reccobeats failed: HTTP 500',
      },
    ]);
  });

  it('takes the most actionable kind for features: a Spotify failure makes an absence elsewhere unknown', () => {
    const session = sessionOn(day);
    session.noteSpotifyFeatures('b', 'spotify audio features failed: HTTP 500', { kind: 'provider_error' });
    session.missFeatures('b', 'reccobeats has none for this track');

    expect(session.of('b').missing).toEqual([
      'provider_error: no audio features: spotify audio features failed: HTTP 500, then reccobeats has none for this track',
    ]);
    expect(session.of('b').gaps.map((g) => g.kind)).toEqual(['provider_error']);
  });

  it('writes to the cache only what was learned today: new metadata, new features, a new absence', () => {
    const session = sessionOn(day);
    session.of('b').features = {
      columns: { danceability: 0.1, tempo: undefined },
      source: 'spotify',
      fetchedOn: day,
    };
    session.of('d').metadata = { ...metadata('D'), fetchedOn: day };
    session.learnFeaturesAbsent('d', 'no audio features: ReccoBeats is off');

    expect(session.cacheUpdates()).toEqual([
      {
        trackId: 'b',
        metadata: metadata('B'),
        features: { columns: { danceability: 0.1, tempo: null }, source: 'spotify', fetchedOn: day },
      },
      {
        trackId: 'd',
        metadata: { ...metadata('D'), fetchedOn: day },
        featuresMissing: { reason: 'no audio features: ReccoBeats is off', fetchedOn: day },
      },
    ]);
  });

  it('answers a track without metadata as missing, else quarantined, else not found, with why', () => {
    const session = new LookupSession(['f', 'q', 'n', 'u'], day, new Map());
    session.of('f').failed = { kind: 'quota', reason: 'spotify track: rate limited', retryAfterMs: 5_000 };
    session.of('f').invalid = { reason: 'ignored', raw: {} };
    session.of('q').invalid = { reason: 'invalid track: name: expected string', raw: { id: 'q' } };
    session.of('n').notFound = 'spotify does not know this track id';
    session.miss('n', 'popularity', {
      kind: 'not_found',
      reason: 'no popularity: reccobeats does not know this track',
    });

    const { results, gaps } = session.results();

    expect([...results]).toEqual([
      ['f', { status: 'missing', reason: 'quota: spotify track: rate limited' }],
      [
        'q',
        {
          status: 'quarantined',
          reason: 'provider_error: invalid track: name: expected string',
          raw: { id: 'q' },
        },
      ],
      [
        'n',
        {
          status: 'not_found',
          reason:
            'not_found: spotify does not know this track id; not_found: no popularity: reccobeats does not know this track',
        },
      ],
      ['u', { status: 'not_found', reason: 'not_found: no source knows this track' }],
    ]);
    // The missing and the quarantined track are worth asking again; the unknown ones are not.
    expect([...(gaps ?? [])]).toEqual([
      [
        'f',
        [
          {
            group: 'metadata',
            kind: 'quota',
            reason: 'quota: spotify track: rate limited',
            retryAfterMs: 5_000,
          },
        ],
      ],
      [
        'q',
        [
          {
            group: 'metadata',
            kind: 'provider_error',
            reason: 'provider_error: invalid track: name: expected string',
          },
        ],
      ],
    ]);
  });

  it('keeps ReccoBeats metadata that stood in for a failed Spotify lookup out of the cache, saying why', () => {
    const session = new LookupSession(['s'], day, new Map());
    const k = session.of('s');
    k.failed = { kind: 'provider_error', reason: 'spotify tracks: HTTP 500' };
    k.metadata = { ...metadata('S'), source: 'reccobeats', fetchedOn: day };
    k.popularity = { value: 40, source: 'reccobeats' };
    session.learnFeaturesAbsent('s', 'no audio features: reccobeats has none');

    expect(session.results().results.get('s')).toMatchObject({
      status: 'ok',
      attributes: {
        metadata_source: 'reccobeats',
        missing_reason: 'provider_error: metadata from reccobeats: spotify tracks: HTTP 500',
      },
    });
    expect(session.cacheUpdates()).toEqual([]);
  });

  it('keeps answers by endpoint, in the order received, and quarantines with the reason', () => {
    const session = new LookupSession(['a'], day, new Map());
    session.keep('spotify_tracks', [{ id: 'a' }, null]);
    session.keep('spotify_tracks', [{ id: 'b' }]);
    session.quarantineAnswer('a', 'reccobeats', 'invalid reccobeats track: popularity: Too big', { id: 'x' });

    expect(session.results()).toMatchObject({
      raw: { spotify_tracks: [{ id: 'a' }, null, { id: 'b' }] },
      quarantine: [
        {
          trackId: 'a',
          provider: 'reccobeats',
          reason: 'invalid reccobeats track: popularity: Too big',
          raw: { id: 'x' },
        },
      ],
    });
  });
});

describe('Class: LookupSession, gaps and cache entries', () => {
  it('takes from a cache entry without metadata no metadata: the track is looked up', () => {
    const session = new LookupSession(
      ['e'],
      day,
      new Map<string, CachedTrack>([['e', { trackId: 'e', features }]]),
    );

    expect(session.idsWhere((k) => !k.metadata)).toEqual(['e']);
    expect(session.of('e').metadata).toBeUndefined();
  });

  it('gives a quota gap its Retry-After, and a gap without one none', () => {
    const session = sessionOn(day);
    session.miss('a', 'popularity', { kind: 'quota', reason: 'rate limited', retryAfterMs: 60_000 });
    session.miss('b', 'popularity', { kind: 'provider_error', reason: 'HTTP 500' });

    expect(session.of('a').gaps).toEqual([
      { group: 'popularity', kind: 'quota', reason: 'quota: rate limited', retryAfterMs: 60_000 },
    ]);
    expect(session.of('b').gaps).toHaveLength(1);
    expect(Object.keys(session.of('b').gaps[0]!)).not.toContain('retryAfterMs');
  });

  it('says what Spotify noted of a track’s features, and nothing of a track it noted nothing of', () => {
    const session = sessionOn(day);
    session.noteSpotifyFeatures('b', 'spotify has no audio features for this track');

    expect(session.spotifyFeaturesNote('b')).toBe('spotify has no audio features for this track');
    expect(session.spotifyFeaturesNote('a')).toBeUndefined();
  });

  it('takes a note of Spotify’s without a failure for an absence, and says so first', () => {
    const session = sessionOn(day);
    session.noteSpotifyFeatures('b', 'closed to this app');

    const reason = session.missFeatures('b', 'ReccoBeats is off');

    expect(reason).toBe('no audio features: closed to this app, then ReccoBeats is off');
    expect(session.of('b').missing).toEqual([`not_found: ${reason}`]);
  });

  it('gives a features gap the Retry-After of Spotify’s quota when the last source gave none', () => {
    const session = sessionOn(day);
    session.noteSpotifyFeatures('b', 'spotify audio features failed: rate limited', {
      kind: 'quota',
      retryAfterMs: 30_000,
    });
    session.missFeatures('b', 'reccobeats has none for this track');
    session.missFeatures('d', 'reccobeats failed: HTTP 500', { kind: 'provider_error' });

    expect(session.of('b').gaps).toEqual([
      expect.objectContaining({ group: 'features', kind: 'quota', retryAfterMs: 30_000 }),
    ]);
    expect(Object.keys(session.of('d').gaps[0]!)).not.toContain('retryAfterMs');
  });

  it('writes to the cache a track whose only news is its metadata, or an absence of features learned today', () => {
    const session = new LookupSession(
      ['m', 'x'],
      day,
      new Map<string, CachedTrack>([['x', { trackId: 'x', metadata: metadata('X') }]]),
    );
    session.of('m').metadata = { ...metadata('M'), fetchedOn: day };
    session.learnFeaturesAbsent('x', 'no audio features: reccobeats has none for this track');

    expect(session.cacheUpdates()).toEqual([
      { trackId: 'm', metadata: { ...metadata('M'), fetchedOn: day } },
      {
        trackId: 'x',
        metadata: metadata('X'),
        featuresMissing: { reason: 'no audio features: reccobeats has none for this track', fetchedOn: day },
      },
    ]);
  });

  it('gives a failed metadata lookup without a Retry-After a gap without one', () => {
    const session = new LookupSession(['f'], day, new Map());
    session.of('f').failed = { kind: 'provider_error', reason: 'spotify tracks: HTTP 500' };

    const gaps = session.results().gaps?.get('f');

    expect(gaps).toEqual([
      { group: 'metadata', kind: 'provider_error', reason: 'provider_error: spotify tracks: HTTP 500' },
    ]);
    expect(Object.keys(gaps![0]!)).not.toContain('retryAfterMs');
  });

  it('says once that a track has no popularity, among its other reasons', () => {
    const session = new LookupSession(['p'], day, new Map());
    session.of('p').metadata = { ...metadata('P'), fetchedOn: day };
    session.miss('p', 'popularity', {
      kind: 'provider_error',
      reason: 'no popularity: reccobeats failed: HTTP 500',
    });
    session.missFeatures('p', 'ReccoBeats is off');

    const row = session.results().results.get('p');

    expect(row?.status === 'ok' && row.attributes.missing_reason).toBe(
      'provider_error: no popularity: reccobeats failed: HTTP 500; not_found: no audio features: ReccoBeats is off',
    );
  });
});
