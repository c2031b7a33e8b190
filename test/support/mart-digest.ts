/**
 * Prints a digest of every mart's rows in a DuckDB warehouse, audit columns (`loaded_at`,
 * `run_id`) left out: how a redesign shows it kept what the pipeline computes.
 *
 *   npx tsx test/support/mart-digest.ts <home>/warehouse.duckdb
 *
 * One line a mart (rows, the first 16 hex digits of its digest), then the digest of them all.
 * Rows are compared as sorted JSON with columns in name order and fractional numbers to 12
 * significant digits, as `martSnapshot` (test/support/pipeline.ts) compares them. It reads DuckDB
 * directly, so that it gives the same answer whatever the code around the warehouse looks like.
 */
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';

const auditColumns = new Set(['loaded_at', 'run_id']);

const comparable = (value: unknown): unknown =>
  typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(12)) : value;

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npx tsx test/support/mart-digest.ts <warehouse.duckdb>\n');
  process.exit(2);
}
const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
const connection = await instance.connect();
const rowsOf = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
const tables = (
  await rowsOf(
    "select table_name from information_schema.tables where table_schema = 'marts' order by table_name",
  )
).map((r) => String(r.table_name));
const all = createHash('sha256');
for (const table of tables) {
  const lines = (await rowsOf(`select * from marts."${table}"`))
    .map((row) =>
      JSON.stringify(
        Object.entries(row)
          .filter(([column]) => !auditColumns.has(column))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([column, value]) => [column, comparable(value)]),
      ),
    )
    .sort();
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex');
  all.update(`${table}:${digest}\n`);
  process.stdout.write(`${table.padEnd(36)} ${String(lines.length).padStart(7)} ${digest.slice(0, 16)}\n`);
}
process.stdout.write(`ALL ${all.digest('hex')}\n`);
connection.closeSync();
