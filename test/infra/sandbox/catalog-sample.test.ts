import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  catalogSampleChartId,
  catalogSampleMaxSize,
  catalogSampleShare,
  chartIdForPlaylist,
  chartIds,
  createCatalog,
  dateOfDay,
  dayNumber,
  sandboxCatalogSamplePlaylistId,
  sandboxChartIds,
  sandboxChartsCsv,
  sandboxPlaylist,
  sandboxPlaylistId,
  sandboxPlaylistIds,
  sandboxPlaylistIdsAll,
  startSandbox,
  type Catalog,
  type ChartId,
  type Sandbox,
} from '../../../infra/sandbox/index.js';
import {
  apiGet,
  chartOverHttp,
  daysFrom,
  tokenFor,
  type Paging,
  type PlaylistItem,
  type SpotifyTrack,
} from './sandbox-client.js';

/**
 * The catalog sample: the non-charting catalog, served as the playlist of the pseudo-chart
 * `catalog-sample`. Its promises over many days are checked on the catalog; the HTTP tests check
 * that the server serves the same thing, paged, as of the day asked, in either access mode.
 */

const today = '2026-11-22';
/** Every `step`-th day from `from` to `to`, both included. */
const everyNthDay = (from: string, to: string, step: number): string[] => {
  const days: string[] = [];
  for (let d = dayNumber(from); d <= dayNumber(to); d += step) days.push(dateOfDay(d));
  return days;
};

describe('Function: Catalog.catalogSampleFor', () => {
  let catalog: Catalog;
  /** Days over years of history, plus 61 consecutive ones. */
  const sparseDays = everyNthDay('2019-07-01', '2029-12-31', 37);
  const window = daysFrom('2025-03-01', 61);

  beforeAll(() => {
    catalog = createCatalog();
  });

  const chartingOn = (day: string) => new Set(chartIds.flatMap((c) => catalog.chartFor(c, day)));

  it('is deterministic: the same seed gives the same sample, another seed another', () => {
    const again = createCatalog();
    const other = createCatalog({ seed: 2 });
    for (const day of ['2020-01-01', '2024-02-29', today]) {
      expect(again.catalogSampleFor(day)).toEqual(catalog.catalogSampleFor(day));
      expect(other.catalogSampleFor(day)).not.toEqual(catalog.catalogSampleFor(day));
    }
  });

  it('holds at most 100 distinct tracks, none on any chart that day, all released by then', () => {
    for (const day of [...sparseDays, ...window]) {
      const sample = catalog.catalogSampleFor(day);
      const charting = chartingOn(day);
      expect(sample.length).toBeLessThanOrEqual(catalogSampleMaxSize);
      expect(new Set(sample).size, `distinct on ${day}`).toBe(sample.length);
      for (const id of sample) {
        expect(charting.has(id), `${id} charts on ${day}`).toBe(false);
        expect(catalog.isReleased(id, day), `${id} released by ${day}`).toBe(true);
      }
    }
    // Not empty once the catalog has a history, and full by the end of the release range.
    expect(catalog.catalogSampleFor(today).length).toBeGreaterThan(50);
    expect(catalog.catalogSampleFor('2029-12-31')).toHaveLength(catalogSampleMaxSize);
  });

  it('draws from one fixed membership of about 2% of the catalog, in one stable order', () => {
    const seen = new Set<string>();
    for (const day of [...sparseDays, ...window])
      for (const id of catalog.catalogSampleFor(day)) seen.add(id);
    const n = catalog.catalogTracks().length;
    // Every member shows up on some day (they are all released by 2029 and none charts for ever).
    expect(seen.size).toBeGreaterThan(n * catalogSampleShare * 0.6);
    expect(seen.size).toBeLessThan(n * catalogSampleShare * 1.4);
    // Any two tracks come in the same order on every day that holds both.
    const days = [...sparseDays, ...window];
    for (const [d, day] of days.entries()) {
      const a = catalog.catalogSampleFor(day);
      const b = catalog.catalogSampleFor(days[(d + 7) % days.length] as string);
      expect(
        a.filter((id) => b.includes(id)),
        `order on ${day}`,
      ).toEqual(b.filter((id) => a.includes(id)));
    }
  });

  it('barely changes from one day to the next, so warm days stay cheap to enrich', () => {
    for (let d = 1; d < window.length; d += 1) {
      const before = catalog.catalogSampleFor(window[d - 1] as string);
      const after = catalog.catalogSampleFor(window[d] as string);
      const kept = after.filter((id) => before.includes(id)).length;
      expect(kept / Math.max(before.length, after.length), `overlap on ${window[d]}`).toBeGreaterThanOrEqual(
        0.9,
      );
    }
  });

  it('caps the sample at 100 when more members qualify, and it still barely moves', () => {
    // A bigger catalog: 2% of 20 000 is about 400 members, so the cap decides.
    const big = createCatalog({ tracks: 20_000, artists: 2000 });
    for (const day of ['2024-02-29', today]) {
      const sample = big.catalogSampleFor(day);
      expect(sample).toHaveLength(catalogSampleMaxSize);
      const next = big.catalogSampleFor(dateOfDay(dayNumber(day) + 1));
      expect(next.filter((id) => sample.includes(id)).length).toBeGreaterThanOrEqual(90);
    }
  });

  it('is not a chart: chartFor refuses it, so no Spotify Charts CSV is made for it', () => {
    expect(() => catalog.chartFor(catalogSampleChartId as ChartId, today)).toThrow(/unknown chart/);
    expect(() => sandboxChartsCsv(catalog, catalogSampleChartId as ChartId, today)).toThrow(/unknown chart/);
    expect(chartIds).not.toContain(catalogSampleChartId);
  });
});

describe('Sandbox: the catalog sample playlist', () => {
  let sandbox: Sandbox;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    token = await tokenFor(sandbox);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('has a playlist of its own, owned by the app’s user, beside the chart playlists', () => {
    expect(sandboxChartIds).toEqual([...chartIds, 'catalog-sample']);
    expect(sandboxPlaylistId('catalog-sample')).toBe(sandboxCatalogSamplePlaylistId);
    expect(sandboxPlaylistIds['catalog-sample']).toBe(sandboxCatalogSamplePlaylistId);
    expect(sandboxCatalogSamplePlaylistId).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(chartIds.map((c) => sandboxPlaylistId(c))).not.toContain(sandboxCatalogSamplePlaylistId);
    expect(chartIdForPlaylist(sandboxCatalogSamplePlaylistId)).toBe('catalog-sample');
    expect(sandboxPlaylistIdsAll).toContain(sandboxCatalogSamplePlaylistId);
    expect(sandboxPlaylist(sandboxCatalogSamplePlaylistId)).toMatchObject({
      chartId: 'catalog-sample',
      ownership: 'app',
      size: undefined,
    });
  });

  it('serves the day’s sample, 50 a page, walking `next` in order', async () => {
    // By the end of the release range the sample is full: exactly two pages of 50.
    const day = '2029-12-31';
    const first = await apiGet<Paging<PlaylistItem>>(
      sandbox,
      token,
      `/playlists/${sandboxCatalogSamplePlaylistId}/items?limit=50`,
      day,
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ offset: 0, limit: 50, total: catalogSampleMaxSize, previous: null });
    expect(first.body.items).toHaveLength(50);
    expect(first.body.next).toBe(
      `${sandbox.apiUrl}/playlists/${sandboxCatalogSamplePlaylistId}/items?offset=50&limit=50`,
    );
    const tooMany = await apiGet(
      sandbox,
      token,
      `/playlists/${sandboxCatalogSamplePlaylistId}/items?limit=51`,
    );
    expect(tooMany.status).toBe(400);

    for (const asOf of [day, '2022-06-15', today]) {
      const items = await chartOverHttp(sandbox, token, 'catalog-sample', asOf);
      expect(items.map((i) => i.item.id)).toEqual(sandbox.catalog.catalogSampleFor(asOf));
      for (const entry of items) {
        expect(entry.added_at).toBe(`${asOf}T00:00:00Z`);
        expect(entry.item.type).toBe('track');
        expect(entry.track).toEqual(entry.item);
        // release_date may be YYYY or YYYY-MM: compare at its own precision.
        expect(entry.item.album.release_date <= asOf.slice(0, entry.item.album.release_date.length)).toBe(
          true,
        );
      }
    }
  });

  it('answers as of the x-chartflow-as-of day, and of today when none is named', async () => {
    const path = `/playlists/${sandboxCatalogSamplePlaylistId}/items?limit=50`;
    const implicit = await apiGet(sandbox, token, path);
    const explicit = await apiGet(sandbox, token, path, today);
    expect(implicit.text).toBe(explicit.text);
    const then = await apiGet<Paging<PlaylistItem>>(sandbox, token, path, '2020-01-01');
    expect(then.body.items.map((i) => i.item.id)).toEqual(sandbox.catalog.catalogSampleFor('2020-01-01'));
    expect(then.text).not.toBe(explicit.text);
  });

  it('is readable by a Development Mode app, since its user owns it (no popularity in its tracks)', async () => {
    const development = await startSandbox({ accessMode: 'development', today: () => today });
    try {
      const developmentToken = await tokenFor(development);
      const items = await chartOverHttp(development, developmentToken, 'catalog-sample', today);
      expect(items.map((i) => i.item.id)).toEqual(development.catalog.catalogSampleFor(today));
      expect(items.length).toBeGreaterThan(0);
      for (const { item } of items) expect(item as SpotifyTrack).not.toHaveProperty('popularity');
      expect(development.stats.snapshot().byProvider.spotify.restricted).toBe(0);
    } finally {
      await development.close();
    }
  });
});
