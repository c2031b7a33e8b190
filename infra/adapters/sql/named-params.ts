import type { SqlValue } from '../../../shared/ports/warehouse.js';

// A string literal, a `::` cast, or a `:name` parameter; only the last is rewritten.
const tokens = /'(?:[^']|'')*'|::|:([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Rewrites `:name` parameters for a driver, returning the values in the order it binds them.
 * Values are bound by the driver, never spliced into the text.
 *
 * @param placeholder - the driver's placeholder for the n-th distinct parameter (`$1`, `$name`, …)
 * @throws {RangeError} if the statement names a parameter that has no value
 */
export const bindNamed = (
  sql: string,
  params: Readonly<Record<string, SqlValue>>,
  placeholder: (name: string, position: number) => string,
): { sql: string; names: string[]; values: SqlValue[] } => {
  const names: string[] = [];
  const text = sql.replace(tokens, (match, name: string | undefined) => {
    if (name === undefined) return match;
    if (!(name in params)) throw new RangeError(`the statement names :${name}, which has no value`);
    let position = names.indexOf(name);
    if (position === -1) position = names.push(name) - 1;
    return placeholder(name, position + 1);
  });
  return { sql: text, names, values: names.map((n) => params[n] ?? null) };
};
