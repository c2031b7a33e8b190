import type { LocalAnswer, ReceivedRequest } from '../http/local-http-server.js';

/**
 * Spotify's answers built by hand, for the shapes the sandbox never serves (removed tracks, local
 * files, episodes, broken objects, answers out of order). Factories, not pasted JSON.
 */

/** A 22-character base62 id derived from a label, so tests read `trackId('a')`. */
export const trackId = (label: string): string => `t${label}`.replace(/[^A-Za-z0-9]/g, '').padEnd(22, '0');

/** A full track object with everything chartflow reads; override any field. */
export const spotifyTrackFactory = (
  label: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> => ({
  album: {
    album_type: 'single',
    id: trackId(`album${label}`),
    name: `Album ${label}`,
    release_date: '2025-05-09',
    release_date_precision: 'day',
  },
  artists: [{ id: trackId(`artist${label}`), name: `Artist ${label}` }],
  duration_ms: 201_000,
  explicit: false,
  external_ids: { isrc: 'USABC2500001' },
  id: trackId(label),
  is_local: false,
  name: `Song ${label}`,
  popularity: 71,
  type: 'track',
  ...overrides,
});

/** An audio features object for a track id. */
export const audioFeaturesFactory = (id: string, overrides: Record<string, unknown> = {}) => ({
  acousticness: 0.1,
  danceability: 0.7,
  energy: 0.8,
  id,
  instrumentalness: 0,
  key: 5,
  liveness: 0.12,
  loudness: -5.2,
  mode: 1,
  speechiness: 0.05,
  tempo: 121.5,
  time_signature: 4,
  type: 'audio_features',
  valence: 0.6,
  ...overrides,
});

/** A playlist entry as `/items` gives it since 2026: the content under `item` (and `track`). */
export const playlistEntryFactory = (item: unknown, overrides: Record<string, unknown> = {}) => ({
  added_at: '2026-03-02T00:00:00Z',
  is_local: false,
  item,
  track: item,
  ...overrides,
});

/** The paging object around some entries; `next` is an absolute URL, as Spotify sends it. */
export const pageFactory = (
  items: unknown[],
  page: { offset: number; total: number; next: string | null },
) => ({
  href: 'ignored',
  items,
  limit: 50,
  next: page.next,
  offset: page.offset,
  previous: null,
  total: page.total,
});

/** The accounts service's answer to a client-credentials request. */
export const tokenAnswer: LocalAnswer = {
  body: { access_token: 'local-token', token_type: 'Bearer', expires_in: 3_600 },
};

/** The ids of a several-ids request (`?ids=a,b`), in order. */
export const idsOf = (request: ReceivedRequest): string[] =>
  (new URL(request.url, 'http://local').searchParams.get('ids') ?? '').split(',').filter(Boolean);

/** The path of a request, without its query. */
export const pathOf = (request: ReceivedRequest): string => new URL(request.url, 'http://local').pathname;
