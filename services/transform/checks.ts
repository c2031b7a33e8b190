import type { SqlValue, StageSlice, Warehouse } from '../../shared/ports/warehouse.js';
import type { CheckResult } from '../../shared/lake/run-records.js';
import {
  columnNames,
  stageSchema,
  stageTableNames,
  unitIntervalFeatures,
} from '../../shared/records/stage-tables.js';

/** A check is a query that counts offending rows: zero passes. */
interface CountCheck {
  readonly name: string;
  readonly sql: string;
  readonly describe: (offending: number) => string;
}

// Every query is limited to the slice being transformed; values are bound, never spliced in.
const slice = (alias: string) =>
  `${alias}.run_id = :run_id and ${alias}.chart_id = :chart_id and ${alias}.chart_date = cast(:chart_date as date)`;

const countChecks: readonly CountCheck[] = [
  {
    name: 'chart_not_empty',
    sql: `select case when count(*) = 0 then 1 else 0 end as offending from ${stageSchema}.chart_songs c where ${slice('c')}`,
    describe: () => 'the chart has no rows',
  },
  {
    name: 'chart_positions_1_to_n',
    // Positions must be exactly 1..N: starting at 1, none repeated, none skipped.
    sql: `select case when count(*) = 0 then 0
                      when min(c.position) = 1 and max(c.position) = count(*) and count(distinct c.position) = count(*) then 0
                      else 1 end as offending
          from ${stageSchema}.chart_songs c where ${slice('c')}`,
    describe: () => 'chart positions are not exactly 1..N',
  },
  {
    name: 'chart_tracks_unique',
    sql: `select count(*) - count(distinct c.track_id) as offending from ${stageSchema}.chart_songs c where ${slice('c')}`,
    describe: (n) => `${n} track(s) appear more than once on the chart`,
  },
  {
    name: 'every_chart_row_has_attributes',
    sql: `select count(*) as offending from ${stageSchema}.chart_songs c
          where ${slice('c')}
            and not exists (select 1 from ${stageSchema}.song_attributes a where ${slice('a')} and a.track_id = c.track_id)`,
    describe: (n) => `${n} chart row(s) have no attribute row`,
  },
  {
    name: 'enriched_tracks_have_artists',
    sql: `select count(*) as offending from ${stageSchema}.song_attributes a
          where ${slice('a')} and a.enrichment_status = 'ok'
            and not exists (select 1 from ${stageSchema}.song_artists r where ${slice('r')} and r.track_id = a.track_id)`,
    describe: (n) => `${n} enriched track(s) have no artist`,
  },
  {
    name: 'popularity_0_to_100',
    sql: `select count(*) as offending from ${stageSchema}.song_attributes a
          where ${slice('a')} and a.popularity is not null and (a.popularity < 0 or a.popularity > 100)`,
    describe: (n) => `${n} row(s) have popularity outside 0..100`,
  },
  ...unitIntervalFeatures.map((feature): CountCheck => ({
    name: `${feature}_0_to_1`,
    sql: `select count(*) as offending from ${stageSchema}.song_attributes a
            where ${slice('a')} and a.${feature} is not null and (a.${feature} < 0 or a.${feature} > 1)`,
    describe: (n) => `${n} row(s) have ${feature} outside 0..1`,
  })),
  {
    name: 'tempo_positive',
    sql: `select count(*) as offending from ${stageSchema}.song_attributes a
          where ${slice('a')} and a.tempo is not null and a.tempo <= 0`,
    describe: (n) => `${n} row(s) have a tempo that is not above 0`,
  },
];

/** The stage tables have exactly the columns the pipeline writes, in order. */
const schemaCheck = async (warehouse: Warehouse): Promise<CheckResult> => {
  const rows = await warehouse.query<{ table_name: string; column_name: string }>(
    `select table_name, column_name from information_schema.columns
     where table_schema = :schema order by table_name, ordinal_position`,
    { schema: stageSchema },
  );
  const problems = stageTableNames.flatMap((table) => {
    const actual = rows.filter((r) => r.table_name === table).map((r) => r.column_name);
    const expected = columnNames(table);
    return actual.join(',') === expected.join(',')
      ? []
      : [
          `${stageSchema}.${table} has (${actual.join(', ') || 'no columns'}), expected (${expected.join(', ')})`,
        ];
  });
  return problems.length
    ? { name: 'stage_schema', passed: false, detail: problems.join('; ') }
    : { name: 'stage_schema', passed: true };
};

/** Runs every check on the slice; a schema mismatch stops the others, which would only fail noisily. */
export const runChecks = async (warehouse: Warehouse, target: StageSlice): Promise<CheckResult[]> => {
  const schema = await schemaCheck(warehouse);
  if (!schema.passed) return [schema];
  const params: Record<string, SqlValue> = {
    run_id: target.runId,
    chart_id: target.chartId,
    chart_date: target.chartDate,
  };
  const results: CheckResult[] = [schema];
  for (const check of countChecks) {
    const [row] = await warehouse.query<{ offending: number | bigint | string }>(check.sql, params);
    const offending = Number(row?.offending ?? 0);
    results.push(
      offending === 0
        ? { name: check.name, passed: true }
        : { name: check.name, passed: false, detail: check.describe(offending) },
    );
  }
  return results;
};
