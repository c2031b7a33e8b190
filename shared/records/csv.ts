import { parse } from 'csv-parse/sync';
import { columnNames, type StageTableName } from './stage-tables.js';
import { InvalidRecordError } from '../errors.js';

/** A CSV cell before it is written: `null` and `undefined` become an empty (unquoted) cell. */
export type CellValue = string | number | boolean | null | undefined;

/**
 * Writes rows of a stage table as RFC 4180 CSV with a header, in the table's column order.
 * Every text is quoted, the empty one included, so that an empty string and a NULL stay distinct
 * for COPY; names keep their commas, quotes, newlines (CR and LF alike, inside their quotes), emoji
 * and right-to-left marks unchanged. Numbers are written as JavaScript prints them, booleans as
 * `true` and `false`.
 *
 * Records end with LF, not RFC 4180's CRLF: Redshift's COPY documents CSV quoting, but not a CR
 * before the line feed, which would otherwise follow the last (quoted) cell of every row. LF is
 * what Redshift's own UNLOAD writes, and what DuckDB, PostgreSQL and csv-parse read as well.
 *
 * Written by hand, not with csv-stringify (which wrote exactly this, byte for byte, as
 * test/shared/records/csv.test.ts holds): in a one-year backfill csv-stringify's per-cell work
 * made a third of everything the pipeline's thread allocated, and about 1.6 s of that thread
 * (docs/benchmark.md). One fixed dialect with every text quoted needs no more than this.
 */
export const toStageCsv = (table: StageTableName, rows: readonly Record<string, CellValue>[]): string => {
  const columns = columnNames(table);
  let csv = `${columns.map(quoted).join(',')}\n`;
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) line += ',';
      line += cell(row[columns[i]!]);
    }
    csv += `${line}\n`;
  }
  return csv;
};

const quoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

const cell = (value: CellValue): string => {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return '';
  }
};

/**
 * Reads a stage CSV back into records keyed by column name; empty cells become `null`.
 *
 * @throws {InvalidRecordError} naming `where` if the text is not CSV of the table's columns: another
 *   header, a row cut short, a quote left open.
 */
export const fromStageCsv = (
  table: StageTableName,
  text: string,
  where: string = table,
): Record<string, string | null>[] => {
  const expected = columnNames(table);
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (error) {
    // csv-parse's own words (a quote left open, a row with too few cells) name the line.
    throw new InvalidRecordError(`${where}: not a ${table} CSV: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const [header, ...body] = rows;
  if (!header || header.join(',') !== expected.join(',')) {
    throw new InvalidRecordError(`${where}: the header is not the ${table} columns (${expected.join(',')})`);
  }
  return body.map((cells) =>
    Object.fromEntries(expected.map((c, i) => [c, cells[i] === '' ? null : (cells[i] ?? null)])),
  );
};
