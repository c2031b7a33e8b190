import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import * as z from 'zod';
import { RetryableError } from '../../../shared/errors.js';
import { logger } from '../../../shared/logger.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import {
  QueryRefusedError,
  oneLine,
  type ResultTable,
  type ResultValue,
  type WarehouseReader,
} from '../../../shared/ports/warehouse-reader.js';
import { bindNamed } from '../sql/named-params.js';

/** Where queries of the lake run on AWS: the stack's workgroup and Glue database (docs/lake.md). */
export interface AthenaTarget {
  readonly workgroup: string;
  readonly database: string;
}

/** How a query is waited for: delays double from the first to the cap; past the timeout it is stopped. */
export interface AthenaPolling {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
}

/** A quick first look, then at most every 2 s, 10 minutes in all (the workgroup's scan limit stops a runaway sooner). */
export const defaultAthenaPolling: AthenaPolling = {
  firstDelayMs: 100,
  maxDelayMs: 2_000,
  timeoutMs: 600_000,
};

const startedSchema = z.object({ QueryExecutionId: z.string().min(1) });
const executionSchema = z.object({
  QueryExecution: z.object({
    StatementType: z.string().optional(),
    Status: z.object({
      State: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
      StateChangeReason: z.string().optional(),
    }),
  }),
});
const resultsSchema = z.object({
  NextToken: z.string().optional(),
  ResultSet: z.object({
    ResultSetMetadata: z
      .object({ ColumnInfo: z.array(z.object({ Name: z.string(), Type: z.string() })).default([]) })
      .optional(),
    Rows: z
      .array(z.object({ Data: z.array(z.object({ VarCharValue: z.string().optional() })).default([]) }))
      .default([]),
  }),
});

const integerTypes = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const numberTypes = new Set(['double', 'float', 'real', 'decimal']);

/**
 * A value as Athena gives it (text, or absent for NULL) as the port's: numbers for numeric columns
 * (an integer too large for a double stays text), booleans, the rest as text (a date is already
 * `YYYY-MM-DD`; a map, a list or a row is Athena's own text of it).
 */
const plain = (value: string | undefined, type: string): ResultValue => {
  if (value === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*$/, '');
  if (integerTypes.has(base)) {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value;
  }
  if (numberTypes.has(base)) return Number(value);
  if (base === 'boolean') return value === 'true';
  return value;
};

/** A bound value as Athena's execution parameters take it: SQL literal text. */
const athenaLiteral = (value: SqlValue): string => {
  if (value === null) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
};

/**
 * The lake's tables on Athena, read only: `chartflow sql --lake --target aws`. Each query runs in
 * the stack's workgroup (its results encrypted in the lake bucket, its scan limited) against the
 * lake's Glue database, with the client's credentials, which the CLI takes from the stack's
 * read-only analyst role, so that a query can change nothing whoever runs the command.
 */
export class AthenaReader implements WarehouseReader {
  constructor(
    private readonly options: {
      readonly client: AthenaClient;
      readonly target: AthenaTarget;
      readonly clock: Clock;
      readonly polling: AthenaPolling;
      readonly label: string;
    },
  ) {}

  get label(): string {
    return this.options.label;
  }

  async read(sql: string, params: Readonly<Record<string, SqlValue>> = {}): Promise<ResultTable> {
    const { client, target } = this.options;
    // Athena's parameters are positional: one value for each `?`, a name used twice given twice.
    const values: SqlValue[] = [];
    const text = bindNamed(sql, params, (name) => {
      values.push(params[name] ?? null);
      return '?';
    }).sql;
    const started = parseOrThrow(
      startedSchema,
      await client.send(
        new StartQueryExecutionCommand({
          QueryString: text,
          WorkGroup: target.workgroup,
          QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: target.database },
          ...(values.length > 0 ? { ExecutionParameters: values.map(athenaLiteral) } : {}),
        }),
      ),
      'Athena StartQueryExecution',
    );
    const statementType = await this.#waitFor(started.QueryExecutionId);
    return this.#results(started.QueryExecutionId, statementType);
  }

  async close(): Promise<void> {}

  /** Polls until the query ends; a failed or cancelled one is refused with Athena's reason. */
  async #waitFor(id: string): Promise<string | undefined> {
    const { client, clock, polling } = this.options;
    const startedAt = clock.now().getTime();
    let delay = polling.firstDelayMs;
    for (;;) {
      const { QueryExecution: execution } = parseOrThrow(
        executionSchema,
        await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
        `Athena GetQueryExecution ${id}`,
      );
      const { State: state, StateChangeReason: reason } = execution.Status;
      if (state === 'SUCCEEDED') return execution.StatementType;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new QueryRefusedError(oneLine(reason ?? `Athena ${state.toLowerCase()} the query ${id}`));
      }
      const elapsed = clock.now().getTime() - startedAt;
      if (elapsed >= polling.timeoutMs) {
        await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch((error: unknown) => {
          logger.warn('could not stop an Athena query', {
            queryExecutionId: id,
            error: (error as Error).message,
          });
        });
        throw new RetryableError(`Athena query ${id} still ${state} after ${polling.timeoutMs} ms; stopped`);
      }
      await clock.sleep(Math.min(delay, polling.timeoutMs - elapsed));
      delay = Math.min(delay * 2, polling.maxDelayMs);
    }
  }

  /** Every page of the result; a query's first row is its header (Athena's way), which is dropped. */
  async #results(id: string, statementType: string | undefined): Promise<ResultTable> {
    let columns: { name: string; type: string }[] = [];
    const rows: ResultValue[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = parseOrThrow(
        resultsSchema,
        await this.options.client.send(
          new GetQueryResultsCommand({ QueryExecutionId: id, ...(token ? { NextToken: token } : {}) }),
        ),
        `Athena GetQueryResults ${id}`,
      );
      if (first) {
        columns = (page.ResultSet.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
          name: c.Name,
          type: c.Type,
        }));
      }
      const pageRows = page.ResultSet.Rows.slice(first && statementType === 'DML' ? 1 : 0);
      for (const row of pageRows) rows.push(columns.map((c, i) => plain(row.Data[i]?.VarCharValue, c.type)));
      first = false;
      token = page.NextToken;
    } while (token !== undefined);
    return { columns, rows };
  }
}
