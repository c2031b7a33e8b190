import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { lakeKeys, legacyLakeKeys, rawPrefix, tablePrefix } from '../../shared/lake/keys.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { lakeIsSound, verifyLake } from '../../shared/lake/verify-lake.js';
import { toLegacyLayout } from '../support/legacy-layout.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';

/**
 * The lake's layout (docs/architecture.md, "Key layout"): a day lands its normalized CSVs in one
 * folder per dataset under `tables/`, and a day written before, whose CSVs sit beside its raw
 * answers under `raw/` (`legacyLakeKeys`), is still verified, replayed, reconciled and re-run.
 * The legacy day is made as such a lake holds it: a day run now, its CSVs moved to the old keys and
 * its manifests rewritten to list them (test/support/legacy-layout.ts).
 */
const day = { chartDate: '2026-09-03', chartId: 'global' };
const keysUnder = async (t: TestPipeline, prefix: string) =>
  (await t.pipeline.store.list(prefix)).map((o) => o.key);

describe('The lake layout, end to end on DuckDB', () => {
  let t: TestPipeline;
  let first: RunSummary;
  let marts: Record<string, string[]>;

  beforeAll(async () => {
    t = await startTestPipeline({ label: 'legacy-layout' });
    first = await t.pipeline.run(day);
    expect(first.status).toBe('succeeded');
    marts = await martSnapshot(t.pipeline.warehouse);
  }, 600_000);
  afterAll(() => t?.stop());

  const loads = () => new RunRecords(t.pipeline.store).list(day);

  it('lands a new day in tables/, a folder per dataset holding its CSVs only; the rest stays under raw/', async () => {
    const { chartDate, chartId } = day;
    expect(await keysUnder(t, tablePrefix('chart_songs', chartDate, chartId))).toEqual([
      lakeKeys.chartCsv(chartDate, chartId),
    ]);
    const parts = (await keysUnder(t, tablePrefix('song_attributes', chartDate, chartId))).map((key) =>
      key.slice(tablePrefix('song_attributes', chartDate, chartId).length),
    );
    expect(parts.length).toBeGreaterThan(0);
    for (const name of parts) expect(name).toMatch(/^part-[0-9a-f]{16}\.csv$/);
    expect(
      (await keysUnder(t, tablePrefix('song_artists', chartDate, chartId))).map((key) =>
        key.slice(tablePrefix('song_artists', chartDate, chartId).length),
      ),
    ).toEqual(parts);
    // Under raw/: what was received, the manifest and the markers; no normalized CSV.
    const raw = [
      ...(await keysUnder(t, rawPrefix('chart_songs', chartDate, chartId))),
      ...(await keysUnder(t, rawPrefix('song_attributes', chartDate, chartId))),
    ];
    expect(raw).toContain(lakeKeys.manifest(chartDate, chartId));
    expect(raw.filter((key) => key.endsWith('.csv'))).toEqual([]);
    expect(raw.filter((key) => key.includes('/_done.'))).toHaveLength(parts.length);
    expect(raw.filter((key) => key.endsWith('.response.json'))).toHaveLength(parts.length);
    // What a load held to the manifests is what those folders hold.
    const [record] = await loads();
    expect(record!.rows).toEqual(first.rows.stage);
  });

  it('verifies, replays and reconciles a day written in the legacy layout, to the same marts', async () => {
    const moved = await toLegacyLayout(t.pipeline.store, day);
    await t.pipeline.idle();
    // The chart CSV, and each part's two CSVs.
    const parts = (moved.size - 1) / 2;
    expect(Number.isInteger(parts) && parts > 0).toBe(true);
    expect(await keysUnder(t, 'tables/')).toEqual([]);
    expect(await t.pipeline.store.get(legacyLakeKeys.chartCsv(day.chartDate, day.chartId))).toBeDefined();

    const verdict = await verifyLake(t.pipeline.store);
    expect(verdict.days.flatMap((d) => d.problems)).toEqual([]);
    expect(lakeIsSound(verdict)).toBe(true);
    // Every file the manifests list was checked: the payload and chart CSV, and three per part.
    expect(verdict.checked).toBe(2 + 3 * parts);

    const replayed = await t.pipeline.replay(day);
    expect(replayed.days.map((d) => d.status)).toEqual(['succeeded']);
    expect(replayed.days[0]!.rows.stage).toEqual(first.rows.stage);
    expect(await martSnapshot(t.pipeline.warehouse)).toEqual(marts);
    expect(await stageRows(t.pipeline.warehouse)).toBe(0);

    // The day's ObjectCreated lost before it was loaded: its claim and run records gone.
    const claims = await keysUnder(t, lakeKeys.claimsPrefix(day.chartDate, day.chartId));
    const records = await keysUnder(t, lakeKeys.runRecordsPrefix(day.chartDate, day.chartId));
    for (const key of [...claims, ...records]) await t.pipeline.store.delete(key);
    const report = await t.pipeline.reconcile({ from: day.chartDate, to: day.chartDate });
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unloaded', runId: first.runId })]);
    const reloaded = await loads();
    expect(reloaded.map((r) => [r.runId, r.status])).toEqual([[first.runId, 'succeeded']]);
    expect(reloaded[0]!.rows).toEqual(first.rows.stage);
    expect(await martSnapshot(t.pipeline.warehouse)).toEqual(marts);
  }, 600_000);

  it("re-runs a legacy day in tables/: loads the new run's files only, and verify notes the earlier run's legacy files", async () => {
    const second = await t.pipeline.run(day);
    expect(second.status).toBe('succeeded');
    const record = (await loads()).find((r) => r.runId === second.runId)!;
    expect(record.rows).toEqual(first.rows.stage);
    expect(await martSnapshot(t.pipeline.warehouse)).toEqual(marts);
    expect(await keysUnder(t, tablePrefix('chart_songs', day.chartDate, day.chartId))).toEqual([
      lakeKeys.chartCsv(day.chartDate, day.chartId),
    ]);
    // The earlier run's files stay where it wrote them: none is called damaged or unlisted.
    expect(await t.pipeline.store.get(legacyLakeKeys.chartCsv(day.chartDate, day.chartId))).toBeDefined();
    const verdict = await verifyLake(t.pipeline.store);
    expect(verdict.days.flatMap((d) => d.problems)).toEqual([]);
    expect(verdict.days[0]!.notes).toEqual([
      expect.stringContaining(`is the chart CSV of run ${first.runId}, in the layout before tables/`),
    ]);
  }, 600_000);
});
