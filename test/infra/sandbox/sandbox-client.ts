import {
  asOfHeader,
  sandboxPlaylistId,
  type Sandbox,
  type SandboxChartId,
} from '../../../infra/sandbox/index.js';

/**
 * A deliberately plain HTTP client for the sandbox tests: `fetch` and nothing else, so that the
 * tests see exactly what a Spotify client would.
 */

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  /** The body as received, before JSON parsing. */
  readonly text: string;
}

const answerOf = async <T>(response: Response): Promise<HttpAnswer<T>> => {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (text ? JSON.parse(text) : null) as T,
  };
};

/** `POST /api/token` with the given client credentials in HTTP Basic auth. */
export const requestToken = async (
  sandbox: Pick<Sandbox, 'accountsUrl'>,
  clientId: string,
  clientSecret: string,
  grantType = 'client_credentials',
) =>
  answerOf<Record<string, unknown>>(
    await fetch(`${sandbox.accountsUrl}/api/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: grantType }).toString(),
    }),
  );

/** A valid access token for the sandbox's own credentials. */
export const tokenFor = async (sandbox: Pick<Sandbox, 'accountsUrl' | 'credentials'>): Promise<string> => {
  const answer = await requestToken(sandbox, sandbox.credentials.clientId, sandbox.credentials.clientSecret);
  if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
  return answer.body.access_token as string;
};

/** GET a path (relative to the API base, or an absolute URL such as a `next` link). */
export const apiGet = async <T = unknown>(
  sandbox: Pick<Sandbox, 'apiUrl'>,
  token: string | undefined,
  path: string,
  asOf?: string,
): Promise<HttpAnswer<T>> => {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (asOf !== undefined) headers[asOfHeader] = asOf;
  const url = path.startsWith('http') ? path : `${sandbox.apiUrl}${path}`;
  return answerOf<T>(await fetch(url, { headers }));
};

export interface SpotifyArtist {
  id: string;
  name: string;
  type: string;
  uri: string;
}

export interface SpotifyTrack {
  id: string;
  name: string;
  uri: string;
  type: string;
  duration_ms: number;
  explicit: boolean;
  popularity: number;
  external_ids: { isrc: string };
  artists: SpotifyArtist[];
  album: {
    id: string;
    name: string;
    album_type: string;
    release_date: string;
    release_date_precision: string;
    total_tracks: number;
    artists: SpotifyArtist[];
  };
}

export interface PlaylistItem {
  added_at: string;
  is_local: boolean;
  item: SpotifyTrack;
  track: SpotifyTrack;
}

export interface Paging<T> {
  href: string;
  items: T[];
  limit: number;
  next: string | null;
  offset: number;
  previous: string | null;
  total: number;
}

/**
 * A whole chart (or the catalog sample) over HTTP: the playlist's pages, following `next` until it
 * is `null`.
 */
export const chartOverHttp = async (
  sandbox: Sandbox,
  token: string,
  chartId: SandboxChartId,
  asOf: string,
): Promise<PlaylistItem[]> => {
  const items: PlaylistItem[] = [];
  let next: string | null = `/playlists/${sandboxPlaylistId(chartId)}/items?limit=50`;
  while (next !== null) {
    const page: HttpAnswer<Paging<PlaylistItem>> = await apiGet<Paging<PlaylistItem>>(
      sandbox,
      token,
      next,
      asOf,
    );
    if (page.status !== 200) throw new Error(`playlist page failed: ${page.status} ${page.text}`);
    items.push(...page.body.items);
    next = page.body.next;
  }
  return items;
};

/** Consecutive `YYYY-MM-DD` dates, starting at `from`. */
export const daysFrom = (from: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) =>
    new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
  );

/** GET a ReccoBeats path (relative to its `/v1` base): no token, as ReccoBeats needs none. */
export const reccobeatsGet = async <T = unknown>(
  sandbox: Sandbox,
  path: string,
  asOf?: string,
): Promise<HttpAnswer<T>> => {
  const headers: Record<string, string> = {};
  if (asOf !== undefined) headers[asOfHeader] = asOf;
  return answerOf<T>(await fetch(`${sandbox.reccobeatsUrl}${path}`, { headers }));
};

export interface ReccobeatsTrack {
  id: string;
  trackTitle: string;
  artists: { id: string; name: string; href: string }[];
  durationMs: number;
  isrc: string;
  ean: null;
  upc: null;
  href: string;
  availableCountries: string;
  popularity: number;
}

export interface ReccobeatsFeatures {
  id: string;
  href: string;
  acousticness: number;
  danceability: number;
  energy: number;
  instrumentalness: number;
  key: number;
  liveness: number;
  loudness: number;
  mode: number;
  speechiness: number;
  tempo: number;
  valence: number;
}

/** The Spotify id a ReccoBeats entry stands for: the last segment of its `href`. */
export const spotifyIdOfHref = (href: string): string => new URL(href).pathname.split('/').at(-1) ?? '';
