import type { Command } from 'commander';
import * as z from 'zod';
import type { CliContext } from '../context.js';
import { parseOptions, UsageError } from '../options.js';
import { formatResult, resultFormats } from '../result-format.js';
import { resolveTarget, targetShape, withTargetOptions } from '../target.js';
import { withWarehouseReader } from '../warehouse-reader-for.js';

/** The help's text after the options: what the command guarantees, examples (the dbt project's tests run them), exit codes. */
export const sqlHelp = `
The warehouse is opened read-only: a statement that would change it is
refused by the warehouse itself, and nothing is changed. One statement at a
time. With no query argument, the query is read from standard input.

With --lake, the query reads the lake's files where they lie, as tables:
chart_songs, song_attributes, song_artists, quarantine and run_records, with
their partitions "date" and chart (docs/lake.md). On this machine DuckDB
reads the lake's folder; with --target aws, Athena reads the stack's lake
bucket, as the stack's read-only analyst role. Name the chart in every
query: Athena requires it.

Examples (docs/warehouse.md has the star's tables and more queries):
  chartflow sql "select e.position, t.track_name, e.days_on_chart
                 from marts.fct_chart_entries e join marts.dim_tracks t using (track_id)
                 where e.chart_id = 'global'
                   and e.chart_date = (select max(chart_date) from marts.fct_chart_entries)
                 order by e.position limit 10"
  chartflow sql --format csv < my-query.sql > answer.csv
  chartflow sql --lake "select status, count(*) as loads from run_records
                        where chart = 'global' group by status"

Exit code: 0 with the result printed; 1 when the warehouse refused or could
not run the query (its own message, on one line); 2 for a usage mistake.`;

/**
 * `chartflow sql`: one read-only query against the warehouse, or with `--lake` against the lake's
 * tables, its result as a table, CSV or JSON.
 */
export const registerSql = (program: Command, context: CliContext): void => {
  withTargetOptions(
    program
      .command('sql')
      .description('run a read-only SQL query against the warehouse and print its result')
      .argument('[query]', 'the query (default: read from standard input)')
      .option('--format <table|csv|json>', 'how to print the result (default: table)')
      .option('--lake', "query the lake's files as tables instead of the warehouse (docs/lake.md)"),
  )
    .addHelpText('after', sqlHelp)
    .action(async (query: string | undefined, raw: unknown) => {
      const options = parseOptions(
        z.object({
          format: z.enum(resultFormats, { message: 'must be table, csv or json' }).default('table'),
          lake: z.boolean().default(false),
          ...targetShape,
        }),
        raw,
      );
      const target = resolveTarget(options, context);
      const text = query ?? (await context.readInput?.());
      if (text === undefined) {
        throw new UsageError('give a query, as an argument or on standard input (chartflow sql --help).');
      }
      if (text.trim() === '') throw new UsageError('the query is empty.');
      const result = await withWarehouseReader(target, context, (reader) => reader.read(text), {
        lake: options.lake,
      });
      context.out(formatResult(result, options.format));
    });
};
