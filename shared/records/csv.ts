import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { columnNames, type StageTableName } from './stage-tables.js';
import { InvalidRecordError } from '../errors.js';

/** A CSV cell before it is written: `null` and `undefined` become an empty (unquoted) cell. */
export type CellValue = string | number | boolean | null | undefined;

/**
 * Writes rows of a stage table as RFC 4180 CSV with a header, in the table's column order.
 * Every non-empty text is quoted, so that an empty string and a NULL stay distinct for COPY;
 * names keep their commas, quotes, newlines (CR and LF alike, inside their quotes), emoji and
 * right-to-left marks unchanged.
 *
 * Records end with LF, not RFC 4180's CRLF: Redshift's COPY documents CSV quoting, but not a CR
 * before the line feed, which would otherwise follow the last (quoted) cell of every row. LF is
 * what Redshift's own UNLOAD writes, and what DuckDB, PostgreSQL and csv-parse read as well.
 */
export const toStageCsv = (table: StageTableName, rows: readonly Record<string, CellValue>[]): string => {
  const columns = columnNames(table);
  return stringify(
    rows.map((row) => columns.map((c) => row[c] ?? null)),
    {
      header: true,
      columns,
      record_delimiter: '\n',
      quoted_string: true,
      cast: {
        boolean: (value) => (value ? 'true' : 'false'),
        date: (value) => value.toISOString(),
      },
    },
  );
};

/** Reads a stage CSV back into records keyed by column name; empty cells become `null`. */
export const fromStageCsv = (
  table: StageTableName,
  text: string,
  where: string = table,
): Record<string, string | null>[] => {
  const expected = columnNames(table);
  const rows = parse(text, { bom: true, relax_column_count: false, skip_empty_lines: true }) as string[][];
  const [header, ...body] = rows;
  if (!header || header.join(',') !== expected.join(',')) {
    throw new InvalidRecordError(`${where}: the header is not the ${table} columns (${expected.join(',')})`);
  }
  return body.map((cells) =>
    Object.fromEntries(expected.map((c, i) => [c, cells[i] === '' ? null : (cells[i] ?? null)])),
  );
};
