import { stringify } from 'csv-stringify/sync';
import type { ResultTable, ResultValue } from '../../../shared/ports/warehouse-reader.js';

/** How `chartflow sql` prints a result. */
export const resultFormats = ['table', 'csv', 'json'] as const;
export type ResultFormat = (typeof resultFormats)[number];

/** The widest a table's cell is shown; the rest is cut with `…` (csv and json keep every character). */
const maxCellWidth = 60;

/** A value as one cell's text: NULL as empty in CSV, as `NULL` in a table; lists and structs as JSON. */
const cellText = (value: ResultValue, nullText: string): string => {
  if (value === null) return nullText;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
};

/**
 * A result as `format` prints it:
 * - `table`: aligned columns for a terminal, numbers to the right, newlines shown as ⏎, and the
 *   row count;
 * - `csv`: RFC 4180 with a header, NULL as an empty field;
 * - `json`: one array of objects, one per row, keyed by column (a later column of the same name
 *   wins, as in any JSON object: `table` and `csv` show both).
 */
export const formatResult = (result: ResultTable, format: ResultFormat): string => {
  if (format === 'json') {
    const rows = result.rows.map((row) =>
      Object.fromEntries(result.columns.map((column, i) => [column.name, row[i] ?? null])),
    );
    return JSON.stringify(rows, null, 2);
  }
  if (format === 'csv') {
    return stringify(
      [result.columns.map((c) => c.name), ...result.rows.map((row) => row.map((v) => cellText(v, '')))],
      { eof: false },
    );
  }
  return table(result);
};

const table = (result: ResultTable): string => {
  const shown = (value: ResultValue) => {
    const text = cellText(value, 'NULL').replace(/\r?\n/g, '⏎');
    return text.length > maxCellWidth ? `${text.slice(0, maxCellWidth - 1)}…` : text;
  };
  const header = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => row.map(shown));
  const numeric = result.columns.map((_, i) =>
    result.rows.every((row) => row[i] === null || typeof row[i] === 'number'),
  );
  const widths = header.map((name, i) => Math.max(name.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join(' │ ')
      .trimEnd();
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  if (header.length === 0) return count;
  return [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line), count].join('\n');
};
