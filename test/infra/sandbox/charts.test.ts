import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chartIds,
  chartSizes,
  sandboxPlaylistId,
  startSandbox,
  type Sandbox,
} from '../../../infra/sandbox/index.js';
import {
  apiGet,
  chartOverHttp,
  daysFrom,
  tokenFor,
  type Paging,
  type PlaylistItem,
} from './sandbox-client.js';

const today = '2026-11-22';
// A fixed window, so that what the tests find (re-entries, debuts) is the same on every run.
const window = daysFrom('2025-03-01', 61);

describe('Sandbox: chart playlists', () => {
  let sandbox: Sandbox;
  let token: string;
  /** The global chart of every day in the window, as track ids in position order. */
  const globalByDay = new Map<string, string[]>();

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    token = await tokenFor(sandbox);
    for (const day of window) {
      globalByDay.set(
        day,
        (await chartOverHttp(sandbox, token, 'global', day)).map((i) => i.item.id),
      );
    }
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const chartOn = (day: string) => globalByDay.get(day) as string[];

  it.each(chartIds)(
    'serves the %s chart at its size, and walking `next` by 50 gives the whole chart in order',
    async (chartId) => {
      const items = await chartOverHttp(sandbox, token, chartId, today);

      expect(chartSizes[chartId]).toBeGreaterThanOrEqual(50);
      expect(chartSizes[chartId]).toBeLessThanOrEqual(200);
      expect(items).toHaveLength(chartSizes[chartId]);
      expect(new Set(items.map((i) => i.item.id)).size).toBe(items.length);
      expect(items.map((i) => i.item.id)).toEqual(sandbox.catalog.chartFor(chartId, today));
      for (const entry of items) {
        expect(entry.is_local).toBe(false);
        expect(entry.added_at).toBe(`${today}T00:00:00Z`);
        expect(entry.item.type).toBe('track');
        // The deprecated `track` duplicates `item`, as Spotify still sends both.
        expect(entry.track).toEqual(entry.item);
      }
    },
  );

  it('pages like Spotify: default limit 20, absolute next/previous links, empty past the end', async () => {
    const playlist = sandboxPlaylistId('us');
    const first = await apiGet<Paging<PlaylistItem>>(sandbox, token, `/playlists/${playlist}/items`, today);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ limit: 20, offset: 0, previous: null, total: chartSizes.us });
    expect(first.body.items).toHaveLength(20);
    expect(first.body.href).toBe(`${sandbox.apiUrl}/playlists/${playlist}/items?offset=0&limit=20`);
    expect(first.body.next).toBe(`${sandbox.apiUrl}/playlists/${playlist}/items?offset=20&limit=20`);

    const last = await apiGet<Paging<PlaylistItem>>(
      sandbox,
      token,
      `/playlists/${playlist}/items?offset=140&limit=50`,
      today,
    );
    expect(last.body.items).toHaveLength(10);
    expect(last.body.next).toBeNull();
    expect(last.body.previous).toBe(`${sandbox.apiUrl}/playlists/${playlist}/items?offset=90&limit=50`);

    const beyond = await apiGet<Paging<PlaylistItem>>(
      sandbox,
      token,
      `/playlists/${playlist}/items?offset=500`,
      today,
    );
    expect(beyond.status).toBe(200);
    expect(beyond.body.items).toEqual([]);
  });

  it('answers only the fields asked for, keeps the filter in its links, and refuses a malformed one', async () => {
    const playlist = sandboxPlaylistId('us');
    const fields = 'items(added_at,item(id,album(name))),next,total';
    const whole = await apiGet<Paging<PlaylistItem>>(sandbox, token, `/playlists/${playlist}/items`, today);
    const filtered = await apiGet<Paging<PlaylistItem>>(
      sandbox,
      token,
      `/playlists/${playlist}/items?fields=${encodeURIComponent(fields)}`,
      today,
    );
    expect(filtered.status).toBe(200);
    expect(Object.keys(filtered.body).sort()).toEqual(['items', 'next', 'total']);
    expect(filtered.body.items).toEqual(
      whole.body.items.map((entry) => ({
        added_at: entry.added_at,
        item: { id: entry.item.id, album: { name: entry.item.album.name } },
      })),
    );
    expect(filtered.body.next).toBe(
      `${sandbox.apiUrl}/playlists/${playlist}/items?offset=20&limit=20&fields=${encodeURIComponent(fields)}`,
    );
    expect(filtered.text.length).toBeLessThan(whole.text.length / 5);

    const malformed = await apiGet(sandbox, token, `/playlists/${playlist}/items?fields=items(id`, today);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: { status: 400, message: 'Invalid fields' } });
  });

  it('refuses a limit above 50, and answers unknown or malformed playlists with Spotify errors', async () => {
    const playlist = sandboxPlaylistId('global');
    const tooMany = await apiGet(sandbox, token, `/playlists/${playlist}/items?limit=51`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ error: { status: 400, message: 'Invalid limit' } });

    const badOffset = await apiGet(sandbox, token, `/playlists/${playlist}/items?offset=-1`);
    expect(badOffset.status).toBe(400);

    // A real Spotify editorial playlist: the sandbox does not have it (nor does a restricted app).
    const unknown = await apiGet(sandbox, token, '/playlists/37i9dQZEVXbMDoHDwVN2tF/items');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { status: 404, message: 'Resource not found' } });

    const malformed = await apiGet(sandbox, token, '/playlists/not-an-id/items');
    expect(malformed.status).toBe(400);
  });

  it('moves from day to day: every day has entries and exits, and tracks climb and fall', () => {
    let climbs = 0;
    let falls = 0;
    for (let d = 1; d < window.length; d += 1) {
      const before = chartOn(window[d - 1] as string);
      const after = chartOn(window[d] as string);
      const entries = after.filter((id) => !before.includes(id));
      const exits = before.filter((id) => !after.includes(id));
      expect(entries.length, `entries on ${window[d]}`).toBeGreaterThan(0);
      expect(exits.length, `exits on ${window[d]}`).toBe(entries.length);
      for (const [position, id] of after.entries()) {
        const previous = before.indexOf(id);
        if (previous > position) climbs += 1;
        if (previous >= 0 && previous < position) falls += 1;
      }
    }
    expect(climbs).toBeGreaterThan(100);
    expect(falls).toBeGreaterThan(100);
  });

  it('has re-entries within 60 days: a track leaves the global chart and comes back days later', () => {
    const reentries: { id: string; left: string; back: string }[] = [];
    const lastSeen = new Map<string, number>();
    window.forEach((day, d) => {
      for (const id of chartOn(day)) {
        const seen = lastSeen.get(id);
        if (seen !== undefined && seen < d - 1)
          reentries.push({ id, left: window[seen + 1] as string, back: day });
        lastSeen.set(id, d);
      }
    });
    expect(reentries.length).toBeGreaterThan(0);
    // Most come back after a short gap, as tracks near the cut-off do.
    expect(reentries.some((r) => Date.parse(r.back) - Date.parse(r.left) <= 7 * 86_400_000)).toBe(true);
  });

  it('brings recent releases in: some debuts in the window came out days before', async () => {
    const seenBefore = new Set(chartOn(window[0] as string));
    const debuts: string[] = [];
    for (const day of window.slice(1)) {
      for (const id of chartOn(day)) if (!seenBefore.has(id)) debuts.push(id);
      for (const id of chartOn(day)) seenBefore.add(id);
    }
    const answer = await apiGet<{ tracks: { album: { release_date: string } }[] }>(
      sandbox,
      token,
      `/tracks?ids=${debuts.slice(0, 50).join(',')}`,
      window.at(-1),
    );
    const fresh = answer.body.tracks.filter((t) => t.album.release_date >= (window[0] as string));
    expect(fresh.length).toBeGreaterThan(0);
  });

  it('serves history: a past day gives that day’s chart, with only tracks already released', async () => {
    for (const day of ['2020-01-01', '2021-06-15']) {
      const items = await chartOverHttp(sandbox, token, 'global', day);
      expect(items).toHaveLength(chartSizes.global);
      expect(items.map((i) => i.item.id)).toEqual(sandbox.catalog.chartFor('global', day));
      for (const { item } of items) {
        // release_date may be YYYY or YYYY-MM: compare at its own precision.
        expect(item.album.release_date <= day.slice(0, item.album.release_date.length)).toBe(true);
        expect(sandbox.catalog.isReleased(item.id, day)).toBe(true);
      }
    }
    const then = sandbox.catalog.chartFor('global', '2021-06-15');
    const now = sandbox.catalog.chartFor('global', today);
    expect(then).not.toEqual(now);
  });

  it('answers as of today when no day is named', async () => {
    const playlist = sandboxPlaylistId('gb');
    const implicit = await apiGet(sandbox, token, `/playlists/${playlist}/items?limit=50`);
    const explicit = await apiGet(sandbox, token, `/playlists/${playlist}/items?limit=50`, today);
    expect(implicit.text).toBe(explicit.text);
  });
});

describe('Sandbox: determinism', () => {
  const sandboxes: Sandbox[] = [];

  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
  });

  /** A set of answers with the server's own address replaced, since ports differ. */
  const answersOf = async (sandbox: Sandbox, asOf: string) => {
    const token = await tokenFor(sandbox);
    const chart = sandbox.catalog.chartFor('global', asOf);
    const paths = [
      `/playlists/${sandboxPlaylistId('global')}/items?limit=50&offset=50`,
      `/playlists/${sandboxPlaylistId('br')}/items?limit=50`,
      `/tracks?ids=${chart.slice(0, 50).join(',')}`,
      `/tracks/${chart[0]}`,
      `/audio-features?ids=${chart.slice(100, 200).join(',')}`,
    ];
    const bodies: string[] = [];
    for (const path of paths)
      bodies.push((await apiGet(sandbox, token, path, asOf)).text.replaceAll(sandbox.url, 'SANDBOX'));
    return bodies;
  };

  it('gives identical bodies from two servers with the same seed, and different ones for another seed', async () => {
    const [a, b, other] = await Promise.all([
      startSandbox({ seed: 7 }),
      startSandbox({ seed: 7 }),
      startSandbox({ seed: 8 }),
    ]);
    sandboxes.push(a, b, other);
    expect(a.port).not.toBe(b.port);

    for (const asOf of ['2022-02-02', '2026-11-22']) {
      const fromA = await answersOf(a, asOf);
      const fromB = await answersOf(b, asOf);
      expect(fromA).toEqual(fromB);
      expect(fromA.join('').length).toBeGreaterThan(10_000);
    }
    expect(other.catalog.chartFor('global', '2022-02-02')).not.toEqual(
      a.catalog.chartFor('global', '2022-02-02'),
    );
    // Playlist ids do not depend on the seed, so configurations can name them once.
    expect((await answersOf(other, '2022-02-02'))[0]).toContain(
      `/playlists/${sandboxPlaylistId('global')}/items`,
    );
  });
});
