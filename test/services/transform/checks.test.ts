import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { runChecks } from '../../../services/transform/checks.js';
import type { CheckResult } from '../../../shared/lake/run-records.js';
import type { CellValue } from '../../../shared/records/csv.js';
import { stageSlice } from './stage-slice.js';

const chartDate = '2026-11-21';
const enriched = { metadata_source: 'spotify', popularity_source: 'spotify', features_source: 'spotify' };

/** A day of two tracks: the first fully enriched, the second's attribute row as given (or none). */
const slices = {
  noReason: { enrichment_status: 'ok', ...enriched, features_source: null },
  kindReason: {
    enrichment_status: 'ok',
    ...enriched,
    features_source: null,
    missing_reason: 'quota: no audio features: reccobeats GET /v1/audio-features: rate limited',
  },
  missingTrack: {
    enrichment_status: 'missing',
    missing_reason:
      'provider_error: spotify tracks: HTTP 500; provider_error: no popularity: reccobeats failed: HTTP 500',
  },
  reasonWithoutKind: { enrichment_status: 'missing', missing_reason: 'the provider failed' },
  legacyOk: {
    enrichment_status: 'ok',
    ...enriched,
    popularity_source: null,
    missing_reason: 'no popularity',
  },
  legacyDeadLettered: { enrichment_status: 'dead_lettered', missing_reason: 'rate limited' },
  lost: undefined,
} satisfies Record<string, Record<string, CellValue> | undefined>;
type SliceName = keyof typeof slices;

describe('Function: runChecks, missing with a reason or lost', () => {
  let home: string;
  let warehouse: DuckDbWarehouse;
  let results: Map<SliceName, CheckResult[]>;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-checks-'));
    const store = new FsObjectStore({ root: path.join(home, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    await warehouse.ensureStage();
    const names = Object.keys(slices) as SliceName[];
    for (const [index, name] of names.entries()) {
      const runId = `run-${String(index).padStart(6, '0')}`;
      const lineage = {
        chart_id: 'global',
        chart_date: chartDate,
        run_id: runId,
        extracted_at: '2026-11-21 06:00:00',
      };
      const chartRows = ['t1', 't2'].map((id, i) => ({
        ...lineage,
        position: i + 1,
        track_id: id,
        track_name: id,
        artist_names: 'A',
        source: 'test',
      }));
      const second = slices[name];
      const attributeRows = [
        { ...lineage, track_id: 't1', ...enriched, enrichment_status: 'ok' },
        ...(second ? [{ ...lineage, track_id: 't2', ...second }] : []),
      ];
      const artistRows = attributeRows
        .filter((r) => r.enrichment_status === 'ok')
        .map((r) => ({
          ...lineage,
          track_id: r.track_id,
          artist_position: 1,
          artist_id: 'a1',
          artist_name: 'A',
        }));
      await stageSlice(
        store,
        warehouse,
        { runId, chartId: 'global', chartDate },
        { chart_songs: chartRows, song_attributes: attributeRows, song_artists: artistRows },
      );
    }
    const all = await runChecks(
      warehouse,
      names.map((_, index) => ({
        runId: `run-${String(index).padStart(6, '0')}`,
        chartId: 'global',
        chartDate,
      })),
    );
    results = new Map(names.map((name, index) => [name, all[index]!]));
  });
  afterAll(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  const failed = (name: SliceName) =>
    results
      .get(name)!
      .filter((c) => !c.passed)
      .map((c) => c.name);

  describe('the stage against its manifest', () => {
    const slice = (index: number) => ({
      runId: `run-${String(index).padStart(6, '0')}`,
      chartId: 'global',
      chartDate,
    });
    const lostIndex = Object.keys(slices).indexOf('lost');
    const check = async (index: number, manifest: { runId: string; trackIds: string[] } | undefined) =>
      (await runChecks(warehouse, [slice(index)], async () => manifest))[0]!.find(
        (c) => c.name === 'stage_matches_manifest',
      );

    it('passes when every track the manifest lists has its chart and attribute rows, and no other is charted', async () => {
      expect(await check(0, { runId: slice(0).runId, trackIds: ['t1', 't2'] })).toEqual({
        name: 'stage_matches_manifest',
        passed: true,
      });
    });

    it('names the tracks the manifest lists that the stage lacks, and the charted tracks it does not list', async () => {
      expect(await check(0, { runId: slice(0).runId, trackIds: ['t1', 't2', 't3'] })).toMatchObject({
        passed: false,
        detail: "1 of the manifest's 3 tracks have no chart row (t3); 1 have no attribute row (t3)",
      });
      expect(await check(0, { runId: slice(0).runId, trackIds: ['t1'] })).toMatchObject({
        passed: false,
        detail: '1 chart row(s) are of tracks the manifest does not list (t2)',
      });
      expect(await check(lostIndex, { runId: slice(lostIndex).runId, trackIds: ['t1', 't2'] })).toMatchObject(
        {
          passed: false,
          detail: '1 have no attribute row (t2)',
        },
      );
    });

    it('fails a slice the lake has no manifest for, and leaves one a later run replaced to that run', async () => {
      expect(await check(0, undefined)).toMatchObject({
        passed: false,
        detail: 'the lake has no manifest for this day and chart',
      });
      expect(await check(0, { runId: 'run-999999', trackIds: [] })).toMatchObject({ passed: true });
    });

    it('is not run without manifests to hold the stage to', async () => {
      const [results] = await runChecks(warehouse, [slice(0)]);
      expect(results!.map((c) => c.name)).not.toContain('stage_matches_manifest');
    });
  });

  it('fails a row whose groups are NULL without a reason: an attribute lost, not missing', () => {
    expect(failed('noReason')).toEqual(['missing_attributes_have_a_reason']);
    expect(results.get('noReason')!.find((c) => !c.passed)?.detail).toMatch(/^1 row\(s\) lack attributes/);
  });

  it('fails a missing row whose reason is not led by a known kind', () => {
    expect(failed('reasonWithoutKind')).toEqual(['missing_attributes_have_a_reason']);
  });

  it('passes NULL groups whose reason is led by its kind, and a track no provider could answer', () => {
    expect(failed('kindReason')).toEqual([]);
    expect(failed('missingTrack')).toEqual([]);
  });

  it('still passes rows of an older lake file (dead-lettered, or a reason without a kind), which only need a reason', () => {
    expect(failed('legacyDeadLettered')).toEqual([]);
    expect(failed('legacyOk')).toEqual([]);
  });

  it('fails a chart row without any attribute row: that one is lost', () => {
    expect(failed('lost')).toEqual(['every_chart_row_has_attributes']);
  });
});
