import type { StageSlice, Warehouse } from '../../shared/ports/warehouse.js';
import type { CheckResult } from '../../shared/lake/run-records.js';
import {
  columnNames,
  stageSchema,
  stageTableNames,
  unitIntervalFeatures,
  type StageTableName,
} from '../../shared/records/stage-tables.js';
import type { Manifest } from '../../shared/records/messages.js';
import { kindReason, missingKinds } from '../../shared/records/missing-reasons.js';

/**
 * A check is a query that counts offending rows per slice (run, chart, day) of the stage, and
 * returns only the slices that have some: a slice it does not return passes. One query checks every
 * slice at once, so a batch of a year of days costs the same dozen queries as one day.
 */
interface CountCheck {
  readonly name: string;
  readonly sql: string;
  readonly describe: (offending: number) => string;
}

const sliceColumns = (alias: string) => `${alias}.run_id, ${alias}.chart_id, ${alias}.chart_date`;
const sameSlice = (a: string, b: string) =>
  `${a}.run_id = ${b}.run_id and ${a}.chart_id = ${b}.chart_id and ${a}.chart_date = ${b}.chart_date`;

/** Rows of a table that break a rule, counted per slice. */
const offendingRows = (table: string, alias: string, condition: string) =>
  `select ${sliceColumns(alias)}, count(*) as offending from ${stageSchema}.${table} ${alias}
   where ${condition} group by ${sliceColumns(alias)}`;

/** A reason led by a known kind (shared/records/missing-reasons.ts); the kinds are our constants, not input. */
const knownKindCondition = (column: string): string =>
  missingKinds
    .map((kind) => kindReason(kind, ''))
    .map((lead) => `left(${column}, ${lead.length}) = '${lead}'`)
    .join(' or ');

const countChecks: readonly CountCheck[] = [
  {
    name: 'chart_positions_1_to_n',
    // Positions must be exactly 1..N: starting at 1, none repeated, none skipped.
    sql: `select ${sliceColumns('c')}, 1 as offending from ${stageSchema}.chart_songs c
          group by ${sliceColumns('c')}
          having not (min(c.position) = 1 and max(c.position) = count(*) and count(distinct c.position) = count(*))`,
    describe: () => 'chart positions are not exactly 1..N',
  },
  {
    name: 'chart_tracks_unique',
    sql: `select ${sliceColumns('c')}, count(*) - count(distinct c.track_id) as offending
          from ${stageSchema}.chart_songs c group by ${sliceColumns('c')}
          having count(*) > count(distinct c.track_id)`,
    describe: (n) => `${n} track(s) appear more than once on the chart`,
  },
  {
    name: 'every_chart_row_has_attributes',
    sql: offendingRows(
      'chart_songs',
      'c',
      `not exists (select 1 from ${stageSchema}.song_attributes a where ${sameSlice('a', 'c')} and a.track_id = c.track_id)`,
    ),
    describe: (n) => `${n} chart row(s) have no attribute row`,
  },
  {
    name: 'missing_attributes_have_a_reason',
    // A group left NULL is "missing with a reason" only when the row says why; without a reason it
    // is an attribute lost on the way. A `missing` row (a status written only since kinds exist)
    // must lead its reason with a known kind; rows of older lake files, replayed, only need a reason.
    sql: offendingRows(
      'song_attributes',
      'a',
      `(a.metadata_source is null or a.popularity_source is null or a.features_source is null)
       and (a.missing_reason is null or trim(a.missing_reason) = ''
            or (a.enrichment_status = 'missing' and not (${knownKindCondition('a.missing_reason')})))`,
    ),
    describe: (n) =>
      `${n} row(s) lack attributes without a reason led by ${missingKinds.join(', ')}: lost, not missing`,
  },
  {
    name: 'enriched_tracks_have_artists',
    sql: offendingRows(
      'song_attributes',
      'a',
      `a.enrichment_status = 'ok'
       and not exists (select 1 from ${stageSchema}.song_artists r where ${sameSlice('r', 'a')} and r.track_id = a.track_id)`,
    ),
    describe: (n) => `${n} enriched track(s) have no artist`,
  },
  {
    name: 'popularity_0_to_100',
    sql: offendingRows(
      'song_attributes',
      'a',
      'a.popularity is not null and (a.popularity < 0 or a.popularity > 100)',
    ),
    describe: (n) => `${n} row(s) have popularity outside 0..100`,
  },
  ...unitIntervalFeatures.map((feature): CountCheck => ({
    name: `${feature}_0_to_1`,
    sql: offendingRows(
      'song_attributes',
      'a',
      `a.${feature} is not null and (a.${feature} < 0 or a.${feature} > 1)`,
    ),
    describe: (n) => `${n} row(s) have ${feature} outside 0..1`,
  })),
  {
    name: 'tempo_positive',
    sql: offendingRows('song_attributes', 'a', 'a.tempo is not null and a.tempo <= 0'),
    describe: (n) => `${n} row(s) have a tempo that is not above 0`,
  },
];

interface SliceRow extends Record<string, unknown> {
  run_id: string;
  chart_id: string;
  chart_date: string;
}

const keyOf = (slice: StageSlice) => `${slice.runId}|${slice.chartId}|${slice.chartDate}`;
const rowKey = (row: SliceRow) => `${row.run_id}|${row.chart_id}|${row.chart_date}`;

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

/** The manifest a slice's run landed with, or `undefined` when the lake has none (or another run's). */
export type ManifestOf = (slice: StageSlice) => Promise<Pick<Manifest, 'runId' | 'trackIds'> | undefined>;

/** The distinct track ids of a stage table, per slice. */
const trackIdsPerSlice = async (warehouse: Warehouse, table: StageTableName) => {
  const rows = await warehouse.query<SliceRow & { track_id: string }>(
    `select distinct ${sliceColumns('t')}, t.track_id from ${stageSchema}.${table} t`,
  );
  const ids = new Map<string, Set<string>>();
  for (const row of rows) {
    const key = rowKey(row);
    ids.set(key, (ids.get(key) ?? new Set()).add(row.track_id));
  }
  return ids;
};

const named = (ids: readonly string[]) =>
  `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, and ${ids.length - 5} more` : ''}`;

/**
 * The stage against the manifest its run landed with: every track the manifest expects has its
 * chart row and its attribute row, and the chart holds no track it does not expect. What a load of a
 * day written before checksums (read unverified) or a hand-edited lake would otherwise get past.
 */
const manifestCheck = async (
  warehouse: Warehouse,
  slices: readonly StageSlice[],
  manifestOf: ManifestOf,
): Promise<CheckResult[]> => {
  const [charted, enriched] = await Promise.all([
    trackIdsPerSlice(warehouse, 'chart_songs'),
    trackIdsPerSlice(warehouse, 'song_attributes'),
  ]);
  const name = 'stage_matches_manifest';
  return Promise.all(
    slices.map(async (slice): Promise<CheckResult> => {
      const manifest = await manifestOf(slice);
      if (manifest === undefined) {
        return { name, passed: false, detail: 'the lake has no manifest for this day and chart' };
      }
      if (manifest.runId !== slice.runId) {
        // A later run of the day replaced the manifest: its own load is checked against it.
        return { name, passed: true, detail: `the manifest now names a later run, ${manifest.runId}` };
      }
      const key = keyOf(slice);
      const chart = charted.get(key) ?? new Set<string>();
      const attributes = enriched.get(key) ?? new Set<string>();
      const expected = new Set(manifest.trackIds);
      const noChartRow = [...expected].filter((id) => !chart.has(id));
      const noAttributeRow = [...expected].filter((id) => !attributes.has(id));
      const unexpected = [...chart].filter((id) => !expected.has(id));
      const problems = [
        ...(noChartRow.length
          ? [
              `${noChartRow.length} of the manifest's ${expected.size} tracks have no chart row (${named(noChartRow)})`,
            ]
          : []),
        ...(noAttributeRow.length
          ? [`${noAttributeRow.length} have no attribute row (${named(noAttributeRow)})`]
          : []),
        ...(unexpected.length
          ? [
              `${unexpected.length} chart row(s) are of tracks the manifest does not list (${named(unexpected)})`,
            ]
          : []),
      ];
      return problems.length ? { name, passed: false, detail: problems.join('; ') } : { name, passed: true };
    }),
  );
};

/**
 * Runs every check on each slice; the results come in the slices' order. A schema mismatch stops
 * the others, which would only fail noisily. With `manifestOf`, the stage is also held to each
 * slice's manifest (`stage_matches_manifest`).
 */
export const runChecks = async (
  warehouse: Warehouse,
  slices: readonly StageSlice[],
  manifestOf?: ManifestOf,
): Promise<CheckResult[][]> => {
  const schema = await schemaCheck(warehouse);
  if (!schema.passed) return slices.map(() => [schema]);

  const present = new Set(
    (
      await warehouse.query<SliceRow>(
        `select distinct ${sliceColumns('c')} from ${stageSchema}.chart_songs c`,
      )
    ).map(rowKey),
  );
  const offending = new Map<string, Map<string, number>>();
  for (const check of countChecks) {
    const rows = await warehouse.query<SliceRow & { offending: number | bigint | string }>(check.sql);
    offending.set(check.name, new Map(rows.map((r) => [rowKey(r), Number(r.offending)])));
  }

  const againstManifest = manifestOf ? await manifestCheck(warehouse, slices, manifestOf) : [];
  return slices.map((slice, index) => {
    const key = keyOf(slice);
    const results: CheckResult[] = [
      schema,
      present.has(key)
        ? { name: 'chart_not_empty', passed: true }
        : { name: 'chart_not_empty', passed: false, detail: 'the chart has no rows' },
    ];
    for (const check of countChecks) {
      // Stryker disable next-line OptionalChaining: the loop above sets a map for every check of countChecks, so offending.get(check.name) is never undefined here
      const n = offending.get(check.name)?.get(key) ?? 0;
      results.push(
        n === 0
          ? { name: check.name, passed: true }
          : { name: check.name, passed: false, detail: check.describe(n) },
      );
    }
    const manifest = againstManifest[index];
    return manifest ? [...results, manifest] : results;
  });
};
