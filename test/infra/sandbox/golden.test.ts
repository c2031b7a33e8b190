import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  asOfHeader,
  chartIds,
  createCatalog,
  dateOfDay,
  dayNumber,
  reccobeatsId,
  sandboxPlaylistIdsAll,
  startSandbox,
  type AccessMode,
  type Catalog,
  type CatalogOptions,
  type Sandbox,
} from '../../../infra/sandbox/index.js';

/**
 * The sandbox's answers, pinned: a hash of a full dump of a catalog and of a fixed sequence of HTTP
 * exchanges in both access modes, taken before the sandbox was split into steps and plugins. The
 * pipeline's marts are built from these answers, so any drift here (one random draw moved, one key
 * reordered, one counter forgotten) would change them. When a hash breaks, the dump is written to
 * the temp folder so that the difference can be read.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The dump's hash; when it is not the pinned one, the dump is written to the temp folder, to be
 * compared with the same dump taken on the commit that pinned it.
 */
const hashOf = (name: string, dump: unknown, pinned: string): string => {
  const text = JSON.stringify(dump, null, 1);
  const hash = sha256(text);
  if (hash !== pinned) writeFileSync(join(tmpdir(), `chartflow-sandbox-golden-${name}.json`), text);
  return hash;
};

const daysBetween = (from: string, to: string, step: number): string[] => {
  const days: string[] = [];
  for (let d = dayNumber(from); d <= dayNumber(to); d += step) days.push(dateOfDay(d));
  return days;
};

// Early history (charts still filling), the Christmas season, a rename-rich stretch, the future.
const chartDays = [
  ...daysBetween('2018-07-01', '2019-09-01', 61),
  ...daysBetween('2025-12-10', '2026-01-08', 1),
  ...daysBetween('2026-02-01', '2029-12-01', 97),
];

const catalogDump = (catalog: Catalog) => {
  const charts = chartDays.map((day) => ({
    day,
    charts: chartIds.map((c) => catalog.chartFor(c, day)),
    sample: catalog.catalogSampleFor(day),
    // Popularity reads the momentum and the calibrated top; names read the renames.
    popularity: catalog.chartFor('global', day).map((id) => catalog.popularity(id, day)),
    names: catalog
      .chartFor('us', day)
      .slice(0, 20)
      .flatMap((id) => catalog.track(id)?.artistIds.map((a) => catalog.artistName(a, day)) ?? []),
  }));
  const tracks = catalog.catalogTracks();
  return {
    seed: catalog.seed,
    artists: catalog.catalogArtists(),
    albums: catalog.catalogAlbums(),
    tracks,
    renames: catalog.artistRenames(),
    lookups: tracks
      .filter((_, i) => i % 97 === 0)
      .map((t) => ({
        track: catalog.track(t.id)?.id,
        album: catalog.album(t.albumId)?.id,
        artist: catalog.artist(t.artistIds[0] as string)?.name,
        released: catalog.isReleased(t.id, '2024-06-30'),
        popularity: catalog.popularity(t.id, '2027-03-03'),
      })),
    charts,
  };
};

const goldenCatalogs: readonly { name: string; options: CatalogOptions; hash: string }[] = [
  { name: 'default', options: {}, hash: '5dd0342c10c6428da8c31c0bbe249709c4df18064b5d2fa6852b8f61ddfebd04' },
  {
    name: 'small',
    options: {
      seed: 'golden',
      tracks: 2000,
      artists: 50,
      firstRelease: '2020-03-01',
      lastRelease: '2023-02-28',
    },
    hash: '634316eafc0eef7e042502aaa446c76b5128e765ec988e09f3677ba7ebda6a09',
  },
];

describe('Golden: createCatalog', () => {
  for (const { name, options, hash } of goldenCatalogs) {
    it(`builds the same ${name} catalog, value for value`, () => {
      expect(hashOf(`catalog-${name}`, catalogDump(createCatalog(options)), hash)).toBe(hash);
    });
  }
});

/** One exchange, as a client sees it: what it asked, and the status, headers that matter and body. */
interface Exchange {
  readonly ask: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly retryAfter: string | null;
  readonly body: string;
}

const exchange = async (ask: string, url: string, init: RequestInit = {}): Promise<Exchange> => {
  const response = await fetch(url, init);
  // The port is the system's choice; every href names it.
  const origin = new URL(url).origin;
  return {
    ask,
    status: response.status,
    contentType: response.headers.get('content-type'),
    retryAfter: response.headers.get('retry-after'),
    body: (await response.text()).replaceAll(origin, 'http://sandbox'),
  };
};

const now = Date.parse('2026-01-15T12:00:00Z');
const today = '2026-01-15';

const startPinned = (accessMode: AccessMode, extra: Parameters<typeof startSandbox>[0] = {}) =>
  startSandbox({
    accessMode,
    today: () => today,
    clock: { now: () => new Date(now) },
    clientId: 'golden-client',
    clientSecret: 'golden-secret',
    ...extra,
  });

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = 'application/x-www-form-urlencoded';

/** Every token answer but the token itself, which is random on purpose. */
const tokenExchanges = async (sandbox: Sandbox): Promise<Exchange[]> => {
  const post = (ask: string, headers: Record<string, string>, body: string) =>
    exchange(ask, `${sandbox.accountsUrl}/api/token`, { method: 'POST', headers, body });
  const good = await post(
    'token: basic',
    { authorization: basic('golden-client', 'golden-secret'), 'content-type': form },
    'grant_type=client_credentials',
  );
  const { access_token: token, ...rest } = JSON.parse(good.body) as Record<string, unknown>;
  return [
    { ...good, body: JSON.stringify({ token: typeof token, ...rest }) },
    await post(
      'token: in the form',
      { 'content-type': form },
      'grant_type=client_credentials&client_id=golden-client&client_secret=golden-secret',
    ).then((e) => ({ ...e, body: String(Object.keys(JSON.parse(e.body) as object)) })),
    await post(
      'token: no grant',
      { authorization: basic('golden-client', 'golden-secret'), 'content-type': form },
      '',
    ),
    await post(
      'token: other grant',
      { authorization: basic('golden-client', 'golden-secret'), 'content-type': form },
      'grant_type=authorization_code',
    ),
    await post(
      'token: bad client',
      { authorization: basic('nobody', 'golden-secret'), 'content-type': form },
      'grant_type=client_credentials',
    ),
    await post(
      'token: bad secret',
      { authorization: basic('golden-client', 'nope'), 'content-type': form },
      'grant_type=client_credentials',
    ),
    await post('token: json', { 'content-type': 'application/json' }, '{"grant_type":"client_credentials"}'),
    await post('token: text', { 'content-type': 'text/plain' }, 'grant_type=client_credentials'),
  ];
};

const tokenOf = async (sandbox: Sandbox): Promise<string> => {
  const response = await fetch(`${sandbox.accountsUrl}/api/token`, {
    method: 'POST',
    headers: { authorization: basic('golden-client', 'golden-secret'), 'content-type': form },
    body: 'grant_type=client_credentials',
  });
  return ((await response.json()) as { access_token: string }).access_token;
};

/** The Web API and ReccoBeats, asked everything the sandbox answers, refusals included. */
const apiExchanges = async (sandbox: Sandbox): Promise<Exchange[]> => {
  const token = await tokenOf(sandbox);
  const catalog = sandbox.catalog;
  const chart = catalog.chartFor('global', today);
  const unreleased = catalog.catalogTracks().find((t) => t.releasedOn > today)?.id as string;
  const noFeatures = catalog.catalogTracks().find((t) => t.audioFeatures === null)?.id as string;
  const some = [...chart.slice(0, 6), noFeatures, unreleased, 'AAAAAAAAAAAAAAAAAAAAAA'];
  const api = (path: string, asOf?: string, auth: string | null = `Bearer ${token}`) =>
    // The token is random: the label names it only when it is not the one just issued.
    exchange(
      `GET ${path} as of ${asOf ?? '-'} with ${auth?.replace(token, 'token') ?? 'no token'}`,
      `${sandbox.apiUrl}${path}`,
      {
        headers: { ...(auth ? { authorization: auth } : {}), ...(asOf ? { [asOfHeader]: asOf } : {}) },
      },
    );
  const recco = (path: string, asOf?: string) =>
    exchange(`GET reccobeats ${path} as of ${asOf ?? '-'}`, `${sandbox.reccobeatsUrl}${path}`, {
      headers: asOf ? { [asOfHeader]: asOf } : {},
    });
  const answers: Exchange[] = [];
  for (const id of sandboxPlaylistIdsAll) {
    answers.push(await api(`/playlists/${id}/items?limit=50`));
    answers.push(await api(`/playlists/${id}/items?limit=7&offset=43`, '2025-12-24'));
  }
  answers.push(
    await api(`/playlists/${sandboxPlaylistIdsAll[0]}/items`, '2019-01-01'),
    await api(`/playlists/${sandboxPlaylistIdsAll[1]}/items?limit=0`),
    await api(`/playlists/${sandboxPlaylistIdsAll[1]}/items?limit=51`),
    await api(`/playlists/${sandboxPlaylistIdsAll[1]}/items?offset=-1`),
    await api(`/playlists/${sandboxPlaylistIdsAll[1]}/items?offset=1000`),
    await api(`/playlists/${sandboxPlaylistIdsAll[1]}/items?limit=5&limit=6`),
    await api('/playlists/not-an-id/items'),
    await api('/playlists/AAAAAAAAAAAAAAAAAAAAAA/items'),
    await api(`/playlists/${sandboxPlaylistIdsAll[0]}/items`, '2026-13-01'),
    await api(`/tracks?ids=${some.join(',')}`),
    await api(`/tracks?ids=${some.join(',')}`, '2030-06-01'),
    await api(`/tracks?ids=${chart.slice(0, 51).join(',')}`),
    await api('/tracks?ids='),
    await api('/tracks'),
    await api(`/tracks/${chart[0]}`),
    await api(`/tracks/${chart[0]}`, '2027-04-04'),
    await api(`/tracks/${unreleased}`),
    await api('/tracks/bad'),
    await api(`/audio-features?ids=${some.join(',')}`),
    await api(`/audio-features?ids=${chart.slice(0, 101).join(',')}`),
    await api(`/tracks/${chart[0]}`, undefined, null),
    await api(`/tracks/${chart[0]}`, undefined, 'Bearer nope'),
    await api('/artists/whatever'),
  );
  const uuids = chart.slice(0, 3).map((id) => reccobeatsId('track', id));
  answers.push(
    await recco(`/track?ids=${some.join(',')}`),
    await recco(`/track?${some.map((id) => `ids=${id}`).join('&')}`, '2026-01-01'),
    await recco(`/track?ids=${[...uuids, ...chart.slice(0, 45)].join(',')}`),
    await recco(`/audio-features?ids=${some.join(',')}`),
    await recco(`/audio-features?ids=${uuids.join(',')}`, '2025-12-31'),
    await recco('/track'),
    await recco('/track?ids=, ,'),
    await recco('/track', 'yesterday'),
    await recco('/nothing-here'),
  );
  return answers;
};

/** Plain GETs of both providers, with a token for Spotify's. */
const getters = async (sandbox: Sandbox) => {
  const token = await tokenOf(sandbox);
  return {
    chart: sandbox.catalog.chartFor('global', today),
    api: (path: string) =>
      exchange(`GET ${path}`, `${sandbox.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } }),
    recco: (path: string) => exchange(`GET reccobeats ${path}`, `${sandbox.reccobeatsUrl}${path}`),
  };
};

/** The faults, each in one exchange. */
const faultExchanges = async (sandbox: Sandbox): Promise<Exchange[]> => {
  const { chart, api, recco } = await getters(sandbox);
  const answers: Exchange[] = [];
  const quota = sandbox.faults.quotaExceeded({ provider: 'spotify', retryAfterSeconds: 3600 });
  answers.push(await api(`/tracks/${chart[0]}`));
  quota.clear();
  sandbox.faults.quotaExceeded({ provider: 'reccobeats', endpoint: 'reccobeatsTracks' });
  answers.push(await recco(`/track?ids=${chart[0]}`));
  sandbox.faults.clear();
  for (const status of [500, 502, 503, 504] as const) {
    sandbox.faults.serverErrors({ provider: 'spotify', status, count: 1 });
    answers.push(await api(`/tracks/${chart[1]}`));
    sandbox.faults.serverErrors({ provider: 'reccobeats', status, count: 1 });
    answers.push(await recco(`/audio-features?ids=${chart[1]}`));
  }
  sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'token', count: 1 });
  answers.push(
    await exchange('token: server error', `${sandbox.accountsUrl}/api/token`, {
      method: 'POST',
      headers: { 'content-type': form },
      body: 'grant_type=client_credentials',
    }),
  );
  sandbox.faults.malformedJson({ provider: 'spotify', count: 1 });
  answers.push(await api(`/tracks/${chart[2]}`));
  sandbox.faults.malformedJson({ provider: 'reccobeats', count: 1 });
  answers.push(await recco(`/track?ids=${chart[2]}`));
  sandbox.faults.slow({ provider: 'spotify', delayMs: 1, count: 1 });
  answers.push(await api(`/tracks/${chart[3]}`));
  sandbox.faults.failTrackLookups([chart[4] as string]);
  sandbox.faults.failTrackLookups([chart[4] as string], { provider: 'reccobeats' });
  answers.push(
    await api(`/tracks/${chart[4]}`),
    await api(`/tracks?ids=${chart.slice(3, 6).join(',')}`),
    await recco(`/track?ids=${chart.slice(3, 6).join(',')}`),
  );
  sandbox.faults.clear();
  return answers;
};

/** Both providers' rolling windows: two requests fit in each (the pinned clock never moves). */
const rateLimitExchanges = async (sandbox: Sandbox): Promise<Exchange[]> => {
  const { chart, api, recco } = await getters(sandbox);
  const answers: Exchange[] = [];
  for (let i = 0; i < 4; i += 1) {
    answers.push(await api(`/tracks/${chart[i]}`));
    answers.push(await recco(`/track?ids=${chart[i]}`));
  }
  return answers;
};

const httpDump = async (accessMode: AccessMode) => {
  const sandbox = await startPinned(accessMode);
  const limited = await startPinned(accessMode, {
    rateLimit: { requests: 2, windowMs: 30_000 },
    reccobeatsRateLimit: { requests: 2, windowMs: 7_500 },
  });
  try {
    const tokens = await tokenExchanges(sandbox);
    const api = await apiExchanges(sandbox);
    const faults = await faultExchanges(sandbox);
    const stats = sandbox.stats.snapshot();
    const rateLimits = await rateLimitExchanges(limited);
    return { tokens, api, faults, stats, rateLimits, rateLimitStats: limited.stats.snapshot() };
  } finally {
    await sandbox.close();
    await limited.close();
  }
};

const goldenAnswers: Readonly<Record<AccessMode, string>> = {
  extended: '64c9231218183b7de68ccde66f6523d9bbc614f4817671e4675c0cf3cce09b5a',
  development: '78c82b3be10de4e75e1b1194d02567762cf4136a02b1e2bc6ff1ab25e4f8cfea',
};

describe('Golden: startSandbox', () => {
  for (const accessMode of ['extended', 'development'] as const) {
    it(`answers the same in ${accessMode} mode, byte for byte`, async () => {
      const pinned = goldenAnswers[accessMode];
      expect(hashOf(`http-${accessMode}`, await httpDump(accessMode), pinned)).toBe(pinned);
    });
  }
});
