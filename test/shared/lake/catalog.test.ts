import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as z from 'zod';
import { lakeCatalog, lakeDatasets, partitionFolder } from '../../../shared/lake/catalog.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { stageSchema, stageTableNames, type ColumnType } from '../../../shared/records/stage-tables.js';
import { stageDdl } from '../../../infra/adapters/sql/stage-ddl.js';
import { duckDbType } from '../../../infra/adapters/embedded/lake-views.js';

/**
 * The lake's catalog (shared/lake/catalog.ts) and everything else that names the stage's columns:
 * the stage DDL, dbt's sources and the staging models' casts. The catalog takes the normalised
 * datasets' columns from stage-tables.ts; these tests fail when dbt, or the DDL, says otherwise.
 */
const root = path.resolve(import.meta.dirname, '..', '..', '..');
const stagingFolder = path.join(root, 'dbt', 'models', 'staging', 'stage');

/** The catalog's columns of a normalised dataset, as name → type. */
const catalogColumns = (table: string): Record<string, string> =>
  Object.fromEntries(
    lakeCatalog[table as keyof typeof lakeCatalog].columns.map((c) => [c.name, c.type as string]),
  );

const sourcesSchema = z.object({
  sources: z.array(
    z.object({
      name: z.string(),
      tables: z.array(
        z.object({
          name: z.string(),
          columns: z.array(z.object({ name: z.string(), data_type: z.string() })),
        }),
      ),
    }),
  ),
});

/** The dbt cross-database type each catalog type is cast to in the staging models. */
const dbtCasts: Record<string, ColumnType> = {
  '{{ type_text() }}': 'text',
  date: 'date',
  '{{ dbt.type_timestamp() }}': 'timestamp',
  '{{ dbt.type_int() }}': 'integer',
  '{{ dbt.type_bigint() }}': 'bigint',
  '{{ type_double() }}': 'double',
  '{{ dbt.type_boolean() }}': 'boolean',
};

/** `cast(source.col as type) as alias` of a staging model, as source column → cast type. */
const stagingCasts = (sql: string): Record<string, string> => {
  const casts: Record<string, string> = {};
  for (const match of sql.matchAll(
    /cast\((?:source\.)?([a-z_]+) as ([^)]+\)?(?: \}\})?|date)\) as [a-z_]+/g,
  )) {
    const type = match[2]!.trim();
    casts[match[1]!] = dbtCasts[type] ?? `unknown cast type ${type}`;
  }
  return casts;
};

describe('The lake catalog', () => {
  it('declares the five datasets, each in a folder of its own that no other dataset shares', () => {
    expect(lakeDatasets.map((d) => d.name)).toEqual([
      'chart_songs',
      'song_attributes',
      'song_artists',
      'quarantine',
      'run_records',
    ]);
    const roots = lakeDatasets.map((d) => d.root);
    for (const [i, a] of roots.entries())
      for (const [j, b] of roots.entries())
        if (i !== j) expect(a.startsWith(b), `${a} inside ${b}`).toBe(false);
  });

  it('puts each dataset where the pipeline writes it: a key of the lake lies under its partition folder', () => {
    const day = { date: '2026-11-14', chart: 'global' };
    const under = (name: keyof typeof lakeCatalog, values: Record<string, string> = day) =>
      `${lakeCatalog[name].root}${partitionFolder(lakeCatalog[name], values)}`;
    expect(lakeKeys.chartCsv(day.date, day.chart).startsWith(under('chart_songs'))).toBe(true);
    expect(lakeKeys.attributesCsv(day.date, day.chart, 'part-1').startsWith(under('song_attributes'))).toBe(
      true,
    );
    expect(lakeKeys.artistsCsv(day.date, day.chart, 'part-1').startsWith(under('song_artists'))).toBe(true);
    expect(lakeKeys.runRecord(day.date, day.chart, 'r', 'l').startsWith(under('run_records'))).toBe(true);
    for (const dataset of ['chart_songs', 'song_attributes'] as const) {
      expect(
        lakeKeys
          .quarantine(dataset, day.date, day.chart, 'x')
          .startsWith(under('quarantine', { ...day, dataset })),
      ).toBe(true);
    }
    expect(partitionFolder(lakeCatalog.chart_songs, day)).toBe('date=2026-11-14/chart=global/');
    expect(partitionFolder(lakeCatalog.quarantine, { ...day, dataset: 'chart_songs' })).toBe(
      'chart_songs/date=2026-11-14/chart=global/',
    );
    expect(lakeKeys.chartCsv(day.date, day.chart)).toBe(`${under('chart_songs')}chart_songs.csv`);
    expect(() => partitionFolder(lakeCatalog.chart_songs, { date: day.date })).toThrow(
      /no value for partition chart/,
    );
  });

  it.each(stageTableNames)(
    'has the stage DDL’s columns and types for %s (DuckDB’s own answer)',
    async (table) => {
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      try {
        for (const statement of stageDdl('duckdb')) await connection.run(statement);
        const reader = await connection.runAndReadAll(
          `select column_name, data_type from information_schema.columns
         where table_schema = '${stageSchema}' and table_name = '${table}' order by ordinal_position`,
        );
        const ddl = reader.getRowsJson().map(([name, type]) => [name, type]);
        expect(ddl).toEqual(lakeCatalog[table].columns.map((c) => [c.name, duckDbType(c.type)]));
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
  );

  it.each(stageTableNames)('is what dbt’s sources say of %s, column by column and type by type', (table) => {
    const sources = sourcesSchema.parse(
      parse(readFileSync(path.join(stagingFolder, '_stage__sources.yml'), 'utf8')),
    );
    const source = sources.sources.find((s) => s.name === 'stage')!.tables.find((t) => t.name === table);
    expect(source, `dbt source stage.${table}`).toBeDefined();
    expect(Object.fromEntries(source!.columns.map((c) => [c.name, c.data_type]))).toEqual(
      catalogColumns(table),
    );
    // In the same order, as COPY reads the files.
    expect(source!.columns.map((c) => c.name)).toEqual(Object.keys(catalogColumns(table)));
  });

  it.each(stageTableNames)('is what the staging model of %s casts each column to', (table) => {
    const sql = readFileSync(path.join(stagingFolder, `stg_stage__${table}.sql`), 'utf8');
    expect(stagingCasts(sql)).toEqual(catalogColumns(table));
  });

  it('reads a staging model’s casts as they are written (the parser of the test above)', () => {
    expect(
      stagingCasts(
        'cast(source.a as {{ type_text() }}) as a,\n cast(b as date) as b,\n cast(c as {{ dbt.type_int() }}) as c2,\n cast(d as varchar(3)) as d',
      ),
    ).toEqual({ a: 'text', b: 'date', c: 'integer', d: 'unknown cast type varchar(3)' });
  });
});
