import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { postgresAvailable } from '../support/services.js';
import { martSnapshot, stageRows, startTestPipeline, type TestPipeline } from '../support/pipeline.js';

const days = ['2026-09-01', '2026-09-02'];

describe('End to end on PostgreSQL, against the same days on DuckDB', () => {
  let postgres: TestPipeline | undefined;
  let duckdb: TestPipeline | undefined;
  const summaries: RunSummary[] = [];

  beforeAll(async () => {
    if (!(await postgresAvailable())) return;
    [postgres, duckdb] = await Promise.all([
      startTestPipeline({ label: 'e2e_pg', warehouse: 'postgres' }),
      startTestPipeline({ label: 'e2e-pg-twin' }),
    ]);
    for (const chartDate of days) {
      const [onPostgres, onDuckDb] = await Promise.all([
        postgres.pipeline.run({ chartId: 'global', chartDate }),
        duckdb.pipeline.run({ chartId: 'global', chartDate }),
      ]);
      summaries.push(onPostgres, onDuckDb);
    }
  });
  afterAll(async () => {
    await Promise.all([postgres?.stop(), duckdb?.stop()]);
  });

  it('runs each day through checks and real dbt to success on PostgreSQL', (context) => {
    if (!postgres) return context.skip();
    expect(summaries.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(summaries[2]!.rows.marts.fct_chart_entries).toBe(400);
  });

  it('builds exactly the marts DuckDB builds from the same days', async (context) => {
    if (!postgres || !duckdb) return context.skip();
    const onPostgres = await martSnapshot(postgres.pipeline.warehouse);
    expect(onPostgres.fct_chart_entries).toHaveLength(400);
    expect(onPostgres).toEqual(await martSnapshot(duckdb.pipeline.warehouse));
  });

  it('leaves the PostgreSQL stage empty', async (context) => {
    if (!postgres) return context.skip();
    expect(await stageRows(postgres.pipeline.warehouse)).toBe(0);
  });
});
