import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { lakeKeys } from '../../shared/lake/keys.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { fromStageCsv, toStageCsv } from '../../shared/records/csv.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { manifestSchema } from '../../shared/records/messages.js';
import { md5Of } from '../../shared/lake/part-markers.js';
import { lakeFileOf } from '../../shared/lake/lake-files.js';

const chartDate = '2026-10-15';
const day = { chartId: 'global', chartDate };

describe('Invariants of docs/architecture.md, end to end on DuckDB', () => {
  const started: TestPipeline[] = [];
  const start = async (label: string) => {
    const t = await startTestPipeline({ label });
    started.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.stop()));
  });

  it('1. idempotent: run, run again, replay gives the marts of one clean run', async () => {
    const [a, b] = await Promise.all([start('idem-a'), start('idem-b')]);

    const first = await a.pipeline.run(day);
    const second = await a.pipeline.run(day);
    const replay = await a.pipeline.replay(day);
    const clean = await b.pipeline.run(day);
    for (const s of [first, second, ...replay.days, clean]) expect(s.status).toBe('succeeded');

    const snapshot = await martSnapshot(a.pipeline.warehouse);
    expect(snapshot.fct_chart_entries!.length).toBeGreaterThanOrEqual(50);
    expect(snapshot).toEqual(await martSnapshot(b.pipeline.warehouse));

    // The audit columns say which run the rows came from: the second run, replayed.
    const runs = await a.pipeline.warehouse.query<{ run_id: string }>(
      'select distinct run_id from marts.fct_chart_entries where chart_date = cast(:d as date)',
      { d: chartDate },
    );
    expect(runs).toEqual([{ run_id: second.runId }]);

    // 2. Exactly one load per run: two runs, and the replay's reload of the second.
    const loads = await new RunRecords(a.pipeline.store).list(day);
    expect(loads.map((l) => l.runId)).toEqual([first.runId, second.runId, second.runId]);
  });

  it('3. the stage is empty after failed checks, which are named', async () => {
    const t = await start('checks');
    expect((await t.pipeline.run(day)).status).toBe('succeeded');

    // Corrupt the landed chart: two rows at position 1. Replaying must refuse it at the checks.
    const key = lakeKeys.chartCsv(chartDate, 'global');
    const rows = fromStageCsv('chart_songs', (await t.pipeline.store.get(key))!.toString('utf8'));
    rows[1]!.position = '1';
    const body = toStageCsv('chart_songs', rows);
    await t.pipeline.store.put(key, body);
    // As chart-fetch would have listed it had the source given it so: a hand edit alone is refused
    // before the checks, as damage (test/e2e/damaged-lake.test.ts).
    const manifestKey = lakeKeys.manifest(chartDate, 'global');
    const manifest = manifestSchema.parse(
      JSON.parse((await t.pipeline.store.get(manifestKey))!.toString('utf8')),
    );
    await t.pipeline.store.put(
      manifestKey,
      JSON.stringify({
        ...manifest,
        chartCsvMd5: md5Of(body),
        files: manifest.files!.map((f) => (f.key === key ? lakeFileOf(key, body, rows.length) : f)),
      }),
    );
    const factBefore = await martSnapshot(t.pipeline.warehouse);

    const [summary] = (await t.pipeline.replay(day)).days;
    expect(summary!.status).toBe('checks_failed');
    expect(summary!.checks.failed.map((c) => c.name)).toEqual(['chart_positions_1_to_n']);
    expect(summary!.checks.failed[0]!.detail).toMatch(/1\.\.N/);
    expect(await stageRows(t.pipeline.warehouse)).toBe(0);
    // Nothing already stored is lost: the marts are as they were.
    expect(await martSnapshot(t.pipeline.warehouse)).toEqual(factBefore);
  });

  it('3. the stage is empty after dbt fails, and dbt says why', async () => {
    const t = await start('dbt-fails');
    // A table in the way of a model: dbt cannot build fct_chart_entries on top of it.
    const instance = await DuckDBInstance.create(t.pipeline.config.duckdbPath);
    const connection = await instance.connect();
    await connection.run('create schema marts; create table marts.fct_chart_entries (unrelated integer)');
    connection.closeSync();
    instance.closeSync();

    const summary = await t.pipeline.run(day);
    expect(summary.status).toBe('transform_failed');
    expect(summary.dbtMessage).toMatch(/fct_chart_entries/);
    expect(await stageRows(t.pipeline.warehouse)).toBe(0);
  });

  it('5. one transform at a time: two charts loaded together transform one after the other', async () => {
    const t = await start('serial');
    const [global, us] = await Promise.all([
      t.pipeline.run({ chartId: 'global', chartDate }),
      t.pipeline.run({ chartId: 'us', chartDate }),
    ]);
    expect([global.status, us.status]).toEqual(['succeeded', 'succeeded']);
    const windows = await Promise.all(
      ['global', 'us'].map(async (chartId) => {
        const [record] = await new RunRecords(t.pipeline.store).list({ chartId, chartDate });
        return [
          Date.parse(record!.transform!.startedAt),
          Date.parse(record!.transform!.finishedAt!),
        ] as const;
      }),
    );
    const [[s1, e1], [s2, e2]] = windows.sort((x, y) => x[0] - y[0]) as [
      readonly [number, number],
      readonly [number, number],
    ];
    expect(s1).toBeLessThan(e1);
    expect(e1).toBeLessThanOrEqual(s2);
    expect(s2).toBeLessThan(e2);
  });

  it('6. the Spotify secret never reaches the lake', async () => {
    const t = await start('secret');
    await t.pipeline.run(day);
    const secret = t.pipeline.sandbox!.credentials.clientSecret;
    for (const { key } of await t.pipeline.store.list('')) {
      expect((await t.pipeline.store.get(key))!.toString('utf8')).not.toContain(secret);
    }
  });
});
