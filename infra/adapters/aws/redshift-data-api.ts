import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type ColumnMetadata,
  type Field,
  type SqlParameter,
} from '@aws-sdk/client-redshift-data';
import * as z from 'zod';
import {
  InvalidRecordError,
  PermanentError,
  RetryableError,
  type ChartflowError,
} from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { logger } from '../../../shared/logger.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import { bindNamed } from '../sql/named-params.js';
import { awsError, awsErrorName } from './aws-errors.js';

/** How statements are waited for: delays double from the first to the cap. */
export interface RedshiftPolling {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** Past this, the statement is cancelled and a RetryableError names it. */
  readonly timeoutMs: number;
}

/** The defaults: a quick first look (short queries finish in tens of ms), then at most every 2 s, 5 minutes in all. */
export const defaultRedshiftPolling: RedshiftPolling = {
  firstDelayMs: 50,
  maxDelayMs: 2_000,
  timeoutMs: 300_000,
};

/** The zod shape of a {@link RedshiftPolling}, for the options schemas of the adapters that take one. */
export const redshiftPollingSchema = z.object({
  firstDelayMs: z.number().int().positive(),
  maxDelayMs: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
});

/**
 * The options every adapter over the Data API takes (a client, a workgroup, a database, how to
 * wait), as a zod shape that the adapter extends with its own.
 */
export const redshiftDataOptionsSchema = z.object({
  client: z.instanceof(RedshiftDataClient, { message: 'must be a RedshiftDataClient' }),
  workgroupName: z.string().min(1, 'the Redshift Serverless workgroup name is required'),
  database: z.string().min(1, 'the database name is required'),
  polling: redshiftPollingSchema.optional(),
});

/** Where statements run, and as whom. */
export interface RedshiftDataTarget {
  /** The Redshift Serverless workgroup. */
  readonly workgroupName: string;
  readonly database: string;
  /**
   * A Secrets Manager secret holding `{"username","password"}` to sign in with. Without it the
   * Data API signs in as the caller's IAM identity (a role becomes the user `IAMR:<role name>`).
   */
  readonly secretArn?: string;
}

/** One statement of a batch, with the words an error names it by. */
export interface RedshiftStatement {
  readonly sql: string;
  readonly label: string;
}

/**
 * The Data API runs at most 40 statements in one batch. A load is always 6 (a delete and a COPY
 * per stage table); only clean-ups of many slices come near it, and they split.
 */
export const maxStatementsPerBatch = 40;

const statuses = ['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED', 'FAILED', 'ABORTED'] as const;

const describedSchema = z.object({
  Id: z.string().min(1),
  Status: z.enum(statuses),
  Error: z.string().optional(),
  HasResultSet: z.boolean().optional(),
  ResultRows: z.number().optional(),
  SubStatements: z
    .array(
      z.object({
        Id: z.string().min(1),
        Status: z.string().optional(),
        Error: z.string().optional(),
        ResultRows: z.number().optional(),
      }),
    )
    .optional(),
});

/** A finished statement as DescribeStatement tells it. */
export type DescribedStatement = z.output<typeof describedSchema>;

/** One sub-statement of a finished batch. */
export type DescribedSubStatement = NonNullable<DescribedStatement['SubStatements']>[number];

const startedSchema = z.object({ Id: z.string().min(1), SessionId: z.string().min(1).optional() });

/** How long a read-only query's session stays up unused: it is rolled back and left at once after. */
const readOnlySessionSeconds = 60;

const describeQuery = (sql: string) => `Redshift query "${sql.replace(/\s+/g, ' ').trim().slice(0, 120)}"`;

// Data API refusals that are about load, not about the request: another try later may pass.
const retryableDataApiErrors = new Set([
  'ActiveStatementsExceededException',
  'ActiveSessionsExceededException',
  'ActiveWaitingRequestsExceededException',
  'QueryTimeoutException',
]);

// Redshift errors that another run of the same statement can get past: a concurrent transaction
// (serializable isolation, deadlock, two sessions creating the same table), or S3 asking COPY to slow down.
const transientStatementError =
  /serializable isolation violation|deadlock detected|could not serialize|duplicate key value violates unique constraint "pg_|S3ServiceException.*(slow ?down|reduce your request rate|InternalError|ServiceUnavailable)/i;

/** Options of a {@link RedshiftDataApi}. */
export interface RedshiftDataApiOptions {
  readonly client: RedshiftDataClient;
  readonly target: RedshiftDataTarget;
  readonly clock: Clock;
  readonly polling: RedshiftPolling;
}

/**
 * Statements through the Redshift Data API, as the adapters over it need them: a batch
 * (`BatchExecuteStatement`, one transaction) or a query (`ExecuteStatement`, its parameters bound
 * by the Data API, every page read), each waited for with backoff. A FAILED statement is thrown
 * naming it, an ABORTED or timed-out one as retryable; nothing is swallowed.
 */
export class RedshiftDataApi {
  readonly #client: RedshiftDataClient;
  readonly #target: {
    readonly WorkgroupName: string;
    readonly Database: string;
    readonly SecretArn?: string;
  };
  readonly #clock: Clock;
  readonly #polling: RedshiftPolling;

  constructor(options: RedshiftDataApiOptions) {
    const { target } = options;
    this.#client = options.client;
    this.#target = {
      WorkgroupName: target.workgroupName,
      Database: target.database,
      ...(target.secretArn ? { SecretArn: target.secretArn } : {}),
    };
    this.#clock = options.clock;
    this.#polling = options.polling;
  }

  /**
   * Runs the statements as one `BatchExecuteStatement` (one transaction) and waits for it; a
   * failure names the statement that failed, by its label.
   */
  async batch(statements: readonly RedshiftStatement[], what: string): Promise<DescribedStatement> {
    const started = await this.#send(
      () =>
        this.#client.send(
          new BatchExecuteStatementCommand({
            ...this.#target,
            Sqls: statements.map((s) => s.sql),
            StatementName: 'chartflow',
          }),
        ),
      what,
    );
    const { Id } = parseAnswer(startedSchema, started, `${what}: BatchExecuteStatement`);
    return this.#waitFor(Id, what, statements);
  }

  /**
   * Runs a query with `ExecuteStatement`, its `:name` parameters bound by the Data API, and reads
   * every page of the result as plain values: numbers, booleans, strings, dates `YYYY-MM-DD`,
   * timestamps as ISO text in UTC.
   */
  async query<R extends Record<string, unknown>>(
    sql: string,
    params: Record<string, SqlValue> = {},
  ): Promise<R[]> {
    const what = describeQuery(sql);
    const { columns, records } = await this.#execute(sql, params, what, {});
    return records.map((record) => toRow(record, columns, what) as R);
  }

  /**
   * Runs a query alone in a read-only transaction (`BEGIN READ ONLY` in a Data API session, rolled
   * back after), so that Redshift itself refuses a write; returns its columns and its rows in order.
   */
  async readOnly(
    sql: string,
    params: Record<string, SqlValue> = {},
  ): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }> {
    const what = describeQuery(sql);
    const begun = await this.#execute('begin transaction read only', {}, `${what}: BEGIN READ ONLY`, {
      SessionKeepAliveSeconds: readOnlySessionSeconds,
    });
    const session = { SessionId: begun.sessionId };
    try {
      const { columns, records } = await this.#execute(sql, params, what, session);
      return {
        columns: columns.map((column, i) => ({ name: columnName(column, i), type: column.typeName ?? '' })),
        rows: records.map((record) =>
          columns.map((column, i) =>
            toPlain(
              record[i],
              column.typeName?.toLowerCase() ?? '',
              `${what}, column ${columnName(column, i)}`,
            ),
          ),
        ),
      };
    } finally {
      await this.#execute('rollback', {}, `${what}: ROLLBACK`, session).catch((error: unknown) =>
        logger.warn('could not roll a read-only Redshift session back', { error: (error as Error).message }),
      );
    }
  }

  /**
   * Starts one statement (in `where`: a new session's target, or an open session), waits for it and
   * reads every page of its result.
   */
  async #execute(
    sql: string,
    params: Record<string, SqlValue>,
    what: string,
    where: { SessionKeepAliveSeconds?: number; SessionId?: string },
  ): Promise<{ sessionId: string; columns: ColumnMetadata[]; records: Field[][] }> {
    const { text, parameters } = dataApiParameters(sql, params);
    const started = await this.#send(
      () =>
        this.#client.send(
          new ExecuteStatementCommand({
            // A statement in an open session names the session only: its target is the session's.
            ...(where.SessionId ? {} : this.#target),
            ...where,
            Sql: text,
            ...(parameters.length > 0 ? { Parameters: parameters } : {}),
          }),
        ),
      what,
    );
    const { Id, SessionId } = parseAnswer(startedSchema, started, `${what}: ExecuteStatement`);
    const sessionId = where.SessionId ?? SessionId;
    if (where.SessionKeepAliveSeconds !== undefined && !sessionId) {
      throw new InvalidRecordError(`${what}: ExecuteStatement answered without the SessionId asked for`);
    }
    const described = await this.#waitFor(Id, what, []);
    if (!described.HasResultSet) return { sessionId: sessionId ?? '', columns: [], records: [] };

    const records: Field[][] = [];
    let columns: ColumnMetadata[] | undefined;
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.#send(
        () =>
          this.#client.send(new GetStatementResultCommand({ Id, ...(token ? { NextToken: token } : {}) })),
        `${what}: GetStatementResult`,
      );
      if (!page.Records) throw new InvalidRecordError(`${what}: GetStatementResult answered without Records`);
      if (page.ColumnMetadata?.length) columns = page.ColumnMetadata;
      if (page.Records.length > 0 && !columns) {
        throw new InvalidRecordError(`${what}: GetStatementResult answered rows without ColumnMetadata`);
      }
      records.push(...page.Records);
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return { sessionId: sessionId ?? '', columns: columns ?? [], records };
  }

  /** Polls DescribeStatement until the statement ends; FAILED and ABORTED throw, naming it. */
  async #waitFor(
    id: string,
    what: string,
    statements: readonly RedshiftStatement[],
  ): Promise<DescribedStatement> {
    const { firstDelayMs, maxDelayMs, timeoutMs } = this.#polling;
    const startedAt = this.#clock.now().getTime();
    let delay = firstDelayMs;
    for (;;) {
      const answer = await this.#send(
        () => this.#client.send(new DescribeStatementCommand({ Id: id })),
        `${what}: DescribeStatement ${id}`,
      );
      const described = parseAnswer(describedSchema, answer, `${what}: DescribeStatement ${id}`);
      if (described.Status === 'FINISHED') return described;
      if (described.Status === 'FAILED') throw statementFailed(described, what, statements);
      if (described.Status === 'ABORTED') {
        // Aborted by someone or something else (a cancel, a WLM rule, a workgroup restart), not by
        // what the statement holds: another try may well finish.
        throw new RetryableError(
          `${what}: Redshift aborted statement ${id}${described.Error ? `: ${described.Error}` : ''}`,
        );
      }
      const elapsed = this.#clock.now().getTime() - startedAt;
      if (elapsed >= timeoutMs) {
        await this.#cancel(id);
        throw new RetryableError(
          `${what}: statement ${id} still ${described.Status} after ${timeoutMs} ms; cancelled, to be tried again`,
        );
      }
      await this.#clock.sleep(Math.min(delay, timeoutMs - elapsed));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }

  /** Best effort: a statement we gave up on should not commit later behind our back. */
  async #cancel(id: string): Promise<void> {
    try {
      await this.#client.send(new CancelStatementCommand({ Id: id }));
    } catch (error) {
      logger.warn('could not cancel a Redshift statement', {
        statementId: id,
        error: (error as Error).message,
      });
    }
  }

  async #send<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw dataApiError(what, error);
    }
  }
}

/**
 * The sub-statements of a finished batch, in the order of its statements (their ids end `:1`,
 * `:2`…, whatever order DescribeStatement lists them in).
 *
 * @throws {InvalidRecordError} if the batch describes another number of statements than were sent.
 */
export const subStatementsOf = (
  described: DescribedStatement,
  statements: readonly RedshiftStatement[],
): DescribedSubStatement[] => {
  const subs = [...(described.SubStatements ?? [])].sort((a, b) => suffix(a.Id) - suffix(b.Id));
  if (subs.length !== statements.length) {
    throw new InvalidRecordError(
      `statement ${described.Id}: ${statements.length} statements sent, ${subs.length} described`,
    );
  }
  return subs;
};

const suffix = (id: string): number => Number(/:(\d+)$/.exec(id)?.[1] ?? Number.NaN);

/**
 * `:name` parameters for the Data API, which binds them itself. Its values are non-empty strings
 * (Redshift casts them to the column's type), so a number or a boolean is sent as its text; a NULL
 * or an empty string cannot be sent at all, so those two constants — and only they — are written
 * into the statement as `null` and `''`.
 */
const dataApiParameters = (
  sql: string,
  params: Record<string, SqlValue>,
): { text: string; parameters: SqlParameter[] } => {
  const parameters: SqlParameter[] = [];
  const { sql: text } = bindNamed(sql, params, (name) => {
    const value = params[name] ?? null;
    if (value === null) return 'null';
    if (value === '') return "''";
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new RangeError(`:${name} is ${value}, which SQL has no literal for`);
    }
    if (!parameters.some((p) => p.name === name)) parameters.push({ name, value: String(value) });
    return `:${name}`;
  });
  return { text, parameters };
};

const parseAnswer = <S extends z.ZodType>(schema: S, answer: unknown, where: string): z.output<S> => {
  return parseOrThrow(schema, answer, `${where}: unexpected answer`);
};

/** A FAILED statement as an error naming what failed — for a batch, which of its statements — and Redshift's words. */
const statementFailed = (
  described: DescribedStatement,
  what: string,
  statements: readonly RedshiftStatement[],
): ChartflowError => {
  const failed = described.SubStatements?.find((s) => s.Status === 'FAILED');
  const statement = failed ? statements[suffix(failed.Id) - 1] : undefined;
  const message = failed?.Error ?? described.Error ?? 'no error message';
  const text = statement
    ? `${what} failed at ${statement.label}: ${message} (statement ${failed!.Id})`
    : `${what} failed: ${message} (statement ${described.Id})`;
  return transientStatementError.test(message) ? new RetryableError(text) : new PermanentError(text);
};

const dataApiError = (what: string, error: unknown): ChartflowError => {
  if (retryableDataApiErrors.has(awsErrorName(error) ?? '')) {
    return new RetryableError(`${what} failed: ${awsErrorName(error)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return awsError(what, error);
};

/**
 * One result row as plain values, the same as the other warehouses give: BIGINT and NUMERIC as
 * numbers (ours fit in a double), dates `YYYY-MM-DD`, timestamps ISO in UTC.
 */
const toRow = (record: Field[], columns: readonly ColumnMetadata[], what: string): Record<string, unknown> =>
  Object.fromEntries(
    columns.map((column, i) => {
      const name = columnName(column, i);
      return [name, toPlain(record[i], column.typeName?.toLowerCase() ?? '', `${what}, column ${name}`)];
    }),
  );

const columnName = (column: ColumnMetadata, i: number): string =>
  column.label ?? column.name ?? `column_${i + 1}`;

const toPlain = (field: Field | undefined, type: string, where: string): unknown => {
  if (field === undefined) throw new InvalidRecordError(`${where}: the row has no value for it`);
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.blobValue !== undefined) return field.blobValue;
  if (field.stringValue === undefined) {
    throw new InvalidRecordError(`${where}: a field of no known kind (${Object.keys(field).join(', ')})`);
  }
  const value = field.stringValue;
  if (type === 'numeric' || type === 'decimal') return Number(value);
  if (type === 'timestamp' || type === 'timestamptz')
    return isoTimestamp(value, type === 'timestamptz', where);
  return value;
};

/** `2026-11-21 06:00:00[.ffffff][+00]` as ISO text in UTC; a timestamp without zone is UTC (ours are). */
const isoTimestamp = (value: string, zoned: boolean, where: string): string => {
  let text = value.replace(' ', 'T');
  if (zoned) text = text.replace(/([+-]\d{2})$/, '$1:00');
  else text += 'Z';
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new InvalidRecordError(`${where}: "${value}" is not a timestamp`);
  return at.toISOString();
};
