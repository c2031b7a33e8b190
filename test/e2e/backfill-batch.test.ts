import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daysBetween } from '../../infra/local/cli/commands/backfill.js';
import type { BackfillSummary, RunSummary } from '../../infra/local/run-summary.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import { postgresAvailable } from '../support/services.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';

/**
 * 60 consecutive days of the global chart (200 entries a day). The sandbox renames a charting
 * artist about every 40 days; this window holds two renames of artists who chart both before and
 * after their rename, and tracks that leave the chart and come back (the first test checks both).
 */
const from = '2026-05-01';
const to = '2026-06-29';
const days = daysBetween(from, to).map((chartDate) => ({ chartId: 'global', chartDate }));

/**
 * The sandbox's charts do not depend on how fast they are asked for: the limiters only pace
 * requests, so they are lifted here for the batch, whose days otherwise wait on them (the benchmark
 * says what the default limits would add). The same settings for every pipeline of the comparison.
 */
const env = { SPOTIFY_RATE_LIMIT: '1000000/1', RECCOBEATS_RATE_LIMIT: '1000000/1' };

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

describe('Batch equivalence: 60 days backfilled in one batch give the marts of the same days one by one', () => {
  let batch: TestPipeline;
  let oneByOne: TestPipeline;
  let postgres: TestPipeline | undefined;
  let summary: BackfillSummary;
  let onPostgres: BackfillSummary | undefined;
  let daily: RunSummary[];

  beforeAll(async () => {
    const withPostgres = await postgresAvailable();
    [batch, oneByOne, postgres] = await Promise.all([
      startTestPipeline({ label: 'batch', env }),
      startTestPipeline({ label: 'one-by-one', env }),
      withPostgres ? startTestPipeline({ label: 'batch_pg', warehouse: 'postgres', env }) : undefined,
    ]);
    const started = performance.now();
    // The three run side by side: the one-by-one run (60 dbt builds) is the long one.
    [summary, daily, onPostgres] = await Promise.all([
      (async () => {
        const result = await batch.pipeline.backfill(days);
        console.info(`60-day batch on DuckDB: ${minutes(performance.now() - started)}`);
        return result;
      })(),
      (async () => {
        const results: RunSummary[] = [];
        for (const day of days) results.push(await oneByOne.pipeline.run(day));
        console.info(`60 days one by one on DuckDB: ${minutes(performance.now() - started)}`);
        return results;
      })(),
      postgres
        ? (async () => {
            const result = await postgres!.pipeline.backfill(days);
            console.info(`60-day batch on PostgreSQL: ${minutes(performance.now() - started)}`);
            return result;
          })()
        : undefined,
    ]);
  }, 60 * 60_000);
  afterAll(async () => {
    await Promise.all([batch?.stop(), oneByOne?.stop(), postgres?.stop()]);
  });

  it('covers an artist rename and re-entries, as the marts show: two versions of the artist, re-entry rows', async () => {
    const catalog = batch.pipeline.sandbox!.catalog;
    const charted = (artistId: string, when: (date: string) => boolean) =>
      days.some(
        (d) =>
          when(d.chartDate) &&
          catalog
            .chartFor('global', d.chartDate)
            .some((id) => catalog.track(id)!.artistIds.includes(artistId)),
      );
    const renames = catalog
      .artistRenames()
      .filter((r) => r.on > from && r.on <= to)
      .filter((r) => charted(r.artistId, (d) => d < r.on) && charted(r.artistId, (d) => d >= r.on));
    expect(renames.length).toBeGreaterThanOrEqual(1);

    for (const rename of renames) {
      // Versions run from the first chart day a name was seen; the old one ends (exclusive) where the new begins.
      const firstSeen = (when: (date: string) => boolean) =>
        days.find((d) => when(d.chartDate) && charted(rename.artistId, (date) => date === d.chartDate))!
          .chartDate;
      const renamedFrom = firstSeen((d) => d >= rename.on);
      const versions = await batch.pipeline.warehouse.query<{
        artist_name: string;
        valid_from: string;
        valid_to: string | null;
        is_current: boolean;
      }>(
        'select artist_name, valid_from, valid_to, is_current from marts.dim_artists where artist_id = :id order by valid_from',
        { id: rename.artistId },
      );
      expect(versions).toEqual([
        {
          artist_name: rename.before,
          valid_from: firstSeen(() => true),
          valid_to: renamedFrom,
          is_current: false,
        },
        { artist_name: rename.after, valid_from: renamedFrom, valid_to: null, is_current: true },
      ]);
    }

    const [reEntries] = await batch.pipeline.warehouse.query<{ n: number }>(
      'select count(*) as n from marts.fct_chart_entries where is_re_entry',
    );
    expect(Number(reEntries!.n)).toBeGreaterThan(0);
  });

  it('loads the 60 days and transforms them in one dbt build, which ends every load, and empties the stage', async () => {
    expect(summary.status).toBe('succeeded');
    expect(summary.loads).toBe(60);
    expect(summary.days.map((d) => d.status)).toEqual(days.map(() => 'succeeded'));
    expect(summary.days.every((d) => d.chartEntries === 200 && d.checks.failed.length === 0)).toBe(true);
    expect(summary.failedInvocations).toEqual([]);
    const batchRecord = await new TransformBatches(batch.pipeline.store).read(summary.batchId);
    expect(batchRecord?.loads).toHaveLength(60);
    const records = (await Promise.all(days.map((d) => new RunRecords(batch.pipeline.store).list(d)))).flat();
    expect(records).toHaveLength(60);
    // One dbt run for all: every record names the same batch and the same dbt task.
    expect(new Set(records.map((r) => r.batch?.batchId))).toEqual(new Set([summary.batchId]));
    expect(new Set(records.map((r) => r.transform?.taskId)).size).toBe(1);
    expect(await stageRows(batch.pipeline.warehouse)).toBe(0);
  });

  it('gives exactly the marts of the same days run one by one, every mart, audit columns aside', async () => {
    expect(daily.map((s) => s.status)).toEqual(days.map(() => 'succeeded'));
    const inOneBatch = await martSnapshot(batch.pipeline.warehouse);
    expect(inOneBatch.fct_chart_entries).toHaveLength(60 * 200);
    expect(Object.keys(inOneBatch).length).toBeGreaterThanOrEqual(3);
    expect(inOneBatch).toEqual(await martSnapshot(oneByOne.pipeline.warehouse));
    expect(await stageRows(oneByOne.pipeline.warehouse)).toBe(0);
  });

  it('gives on PostgreSQL exactly the marts of the DuckDB batch', async (context) => {
    if (!postgres || !onPostgres) return context.skip();
    expect(onPostgres.status).toBe('succeeded');
    expect(onPostgres.loads).toBe(60);
    expect(await martSnapshot(postgres.pipeline.warehouse)).toEqual(
      await martSnapshot(batch.pipeline.warehouse),
    );
    expect(await stageRows(postgres.pipeline.warehouse)).toBe(0);
  });
});
