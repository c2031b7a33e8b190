import { beforeAll, describe, expect, it } from 'vitest';
import {
  chartIds,
  chartSizes,
  createCatalog,
  dateOfDay,
  dayNumber,
  renameWindow,
  trickyTracks,
  type Catalog,
} from '../../../infra/sandbox/index.js';

/**
 * The catalog's promises over years of history, checked on the catalog itself: over HTTP they
 * would take thousands of requests. The HTTP tests check the same catalog through the server.
 */

/** Every `step`-th day from `from` to `to`, both included. */
const daysBetween = (from: string, to: string, step = 1): string[] => {
  const days: string[] = [];
  for (let d = dayNumber(from); d <= dayNumber(to); d += step) days.push(dateOfDay(d));
  return days;
};

describe('Function: createCatalog', () => {
  let catalog: Catalog;

  beforeAll(() => {
    catalog = createCatalog();
  });

  it('builds the same catalog and charts from the same seed, and another from another seed', () => {
    const again = createCatalog();
    const other = createCatalog({ seed: 2 });
    // Compared as JSON: deep equality over 6000 objects is slow in the matcher, and JSON is what is served.
    expect(JSON.stringify(again.catalogTracks())).toBe(JSON.stringify(catalog.catalogTracks()));
    expect(JSON.stringify(again.catalogAlbums())).toBe(JSON.stringify(catalog.catalogAlbums()));
    expect(JSON.stringify(again.catalogArtists())).toBe(JSON.stringify(catalog.catalogArtists()));
    for (const day of ['2020-01-01', '2024-02-29', '2026-11-22']) {
      for (const chartId of chartIds)
        expect(again.chartFor(chartId, day)).toEqual(catalog.chartFor(chartId, day));
      expect(other.chartFor('global', day)).not.toEqual(catalog.chartFor('global', day));
    }
  });

  it('holds thousands of tracks and hundreds of artists with Spotify-shaped ids', () => {
    const tracks = catalog.catalogTracks();
    expect(tracks.length).toBe(6000);
    expect(catalog.catalogArtists().length).toBe(600);
    const ids = [
      ...tracks.map((t) => t.id),
      ...catalog.catalogArtists().map((a) => a.id),
      ...catalog.catalogAlbums().map((a) => a.id),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
    for (const t of tracks) {
      expect(t.artistIds.length).toBeGreaterThanOrEqual(1);
      expect(t.artistIds.length).toBeLessThanOrEqual(3);
      expect(new Set(t.artistIds).size).toBe(t.artistIds.length);
    }
    for (const album of catalog.catalogAlbums()) expect(album.trackIds).toHaveLength(album.totalTracks);
  });

  it('leaves about 5% of tracks without audio features', () => {
    const missing = catalog.catalogTracks().filter((t) => t.audioFeatures === null).length / 6000;
    expect(missing).toBeGreaterThan(0.03);
    expect(missing).toBeLessThan(0.07);
  });

  it('computes a 200-entry chart in well under 20 ms', () => {
    const days = daysBetween('2023-01-01', '2023-03-01');
    const started = performance.now();
    for (const day of days) catalog.chartFor('global', day);
    const perChart = (performance.now() - started) / days.length;
    expect(perChart).toBeLessThan(20);
  });

  it('keeps the hostile names on the global chart every day of its history (sampled)', () => {
    const hostile = catalog.catalogTracks().slice(0, trickyTracks.length);
    expect(hostile.map((t) => t.name)).toEqual(trickyTracks.map((t) => t.name));
    const absent: string[] = [];
    for (const day of daysBetween('2020-01-01', '2029-12-31', 5)) {
      const chart = new Set(catalog.chartFor('global', day));
      for (const track of hostile)
        if (!chart.has(track.id)) absent.push(`${JSON.stringify(track.name)} on ${day}`);
    }
    expect(absent).toEqual([]);
  });

  it('charts only released tracks, at every chart’s size, and most of the catalog never charts (sampled)', () => {
    const charted = new Set<string>();
    const wrong: string[] = [];
    for (const day of daysBetween('2020-01-01', '2029-12-31', 7)) {
      for (const chartId of chartIds) {
        const chart = catalog.chartFor(chartId, day);
        if (chart.length !== chartSizes[chartId])
          wrong.push(`${chartId} on ${day} has ${chart.length} entries`);
        for (const id of chart) {
          charted.add(id);
          if (!catalog.isReleased(id, day))
            wrong.push(`${id} charts on ${chartId} on ${day} before its release`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(charted.size).toBeGreaterThan(1000);
    expect(charted.size).toBeLessThan(catalog.catalogTracks().length / 2);
  });

  it('renames a charting artist at least once in every 60 days of its rename window', () => {
    const renames = catalog.artistRenames();
    const share = renames.length / catalog.catalogArtists().length;
    expect(share).toBeGreaterThan(0.02);
    expect(share).toBeLessThan(0.1);

    const chartingRenames = renames.filter((r) =>
      catalog.chartFor('global', r.on).some((id) => catalog.track(id)?.artistIds.includes(r.artistId)),
    );
    for (const start of daysBetween(renameWindow.from, dateOfDay(dayNumber(renameWindow.to) - 59))) {
      const end = dateOfDay(dayNumber(start) + 59);
      expect(
        chartingRenames.some((r) => r.on >= start && r.on <= end),
        `a charting artist renamed between ${start} and ${end}`,
      ).toBe(true);
    }
    for (const r of renames) {
      expect(catalog.artistName(r.artistId, dateOfDay(dayNumber(r.on) - 1))).toBe(r.before);
      expect(catalog.artistName(r.artistId, r.on)).toBe(r.after);
      expect(r.after).not.toBe(r.before);
    }
  });

  it('gives popularity 0..100 that follows the curve: 0 before release, high on the chart', () => {
    const day = '2026-11-22';
    const chart = catalog.chartFor('global', day);
    const top = catalog.popularity(chart[0] as string, day);
    expect(top).toBeGreaterThanOrEqual(80);
    expect(top).toBeLessThanOrEqual(100);
    const unreleased = catalog.catalogTracks().find((t) => t.releasedOn > day);
    expect(catalog.popularity(unreleased?.id as string, day)).toBe(0);
    for (const track of catalog.catalogTracks().slice(0, 500)) {
      const p = catalog.popularity(track.id, day);
      expect(Number.isInteger(p) && p >= 0 && p <= 100).toBe(true);
    }
  });

  it('refuses unknown charts and malformed dates', () => {
    expect(() => catalog.chartFor('fr' as never, '2026-01-01')).toThrow(RangeError);
    expect(() => catalog.chartFor('global', '2026-02-30')).toThrow(RangeError);
  });
});
