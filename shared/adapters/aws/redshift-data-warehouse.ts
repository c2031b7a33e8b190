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
import { z } from 'zod';
import {
  ConfigError,
  describeIssues,
  InvalidRecordError,
  PermanentError,
  RetryableError,
  type ChartflowError,
} from '../../errors.js';
import { lakeKeys } from '../../lake/keys.js';
import { logger } from '../../logger.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../ports/warehouse.js';
import {
  columnNames,
  stageSchema,
  stageTableNames,
  type StageTableName,
} from '../../records/stage-tables.js';
import { bindNamed } from '../sql/named-params.js';
import { deleteSliceSql, deleteSlicesStatements, stageDdl } from '../sql/stage-ddl.js';
import { awsError, awsErrorName } from './aws-errors.js';
import { redshiftLiteral, s3Uri, s3UriLiteral, type LiteralKind } from './redshift-literal.js';

/** How a {@link RedshiftDataWarehouse} waits for a statement: delays double from the first to the cap. */
export interface RedshiftPolling {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** Past this, the statement is cancelled and a RetryableError names it. */
  readonly timeoutMs: number;
}

/** Options of a {@link RedshiftDataWarehouse}. */
export interface RedshiftDataWarehouseOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: RedshiftDataClient;
  /** The Redshift Serverless workgroup; the Data API signs in as the caller's IAM identity. */
  readonly workgroupName: string;
  readonly database: string;
  /** The lake's bucket: load keys are objects in it. */
  readonly bucket: string;
  /**
   * The lake's store, writing to `bucket` (on AWS the S3ObjectStore of the lake bucket): each load
   * writes its COPY manifests there, under `control/copy-manifests/`, for COPY to read.
   */
  readonly store: ObjectStore;
  /** The role Redshift assumes to read the lake during COPY (attached to the workgroup's namespace). */
  readonly copyRoleArn: string;
  readonly clock?: Clock;
  readonly polling?: RedshiftPolling;
}

/** The defaults: a quick first look (short queries finish in tens of ms), then at most every 2 s, 5 minutes in all. */
export const defaultRedshiftPolling: RedshiftPolling = {
  firstDelayMs: 50,
  maxDelayMs: 2_000,
  timeoutMs: 300_000,
};

const optionsSchema = z.object({
  client: z.instanceof(RedshiftDataClient, { message: 'must be a RedshiftDataClient' }),
  workgroupName: z.string().min(1, 'the Redshift Serverless workgroup name is required'),
  database: z.string().min(1, 'the database name is required'),
  bucket: z.string().min(1, 'the lake bucket is required'),
  copyRoleArn: z.string().min(1, 'the COPY role ARN is required'),
  store: z.custom<ObjectStore>(
    (v) => typeof (v as Partial<ObjectStore> | undefined)?.put === 'function',
    'must be an ObjectStore (the lake the manifests are written to)',
  ),
  polling: z
    .object({
      firstDelayMs: z.number().int().positive(),
      maxDelayMs: z.number().int().positive(),
      timeoutMs: z.number().int().positive(),
    })
    .optional(),
});

/**
 * The Data API runs at most 40 statements in one batch. A load is always 6 (a delete and a COPY
 * per stage table); only clean-ups of many slices come near it, and they split.
 */
export const maxStatementsPerBatch = 40;

/**
 * COPY's options for the lake's CSV (shared/records/csv.ts: RFC 4180, a header, UTF-8, CRLF,
 * timestamps `YYYY-MM-DD HH:MM:SS.sss` in UTC, dates `YYYY-MM-DD`, booleans `true`/`false`).
 * - `FORMAT AS CSV`: quotes, doubled quotes, delimiters and newlines inside quoted fields.
 * - `IGNOREHEADER 1`: each file's header row.
 * - `DATEFORMAT 'YYYY-MM-DD'` (strict: a malformed date fails the load); `TIMEFORMAT 'auto'` reads
 *   our `YYYY-MM-DD HH:MM:SS.sss` with its milliseconds, and ISO 8601 too.
 * - `EMPTYASNULL`: our writer leaves NULL as an empty, unquoted cell. Without it Redshift loads an
 *   empty text cell as '' (numbers and dates become NULL either way). By public reports (Airbyte's
 *   and Snowplow's Redshift loaders; not verifiable here) COPY does not tell a quoted "" from an
 *   empty cell, so an empty *string* loads as NULL too: an empty name in a NOT NULL column fails the
 *   load loudly, rather than every NULL text becoming '' silently. Keeping the two apart needs a
 *   NULL marker in the files (`\N`, Redshift's default NULL AS), a change to the CSV writer.
 * - No `ACCEPTINVCHARS`: our files are valid UTF-8 (Node writes them); replacing characters would
 *   change names silently, which DESIGN.md forbids.
 * - `COMPUPDATE OFF`: the stage is emptied after every run, and choosing encodings for an empty
 *   table on every COPY costs time for nothing.
 */
export const copyOptions =
  "FORMAT AS CSV IGNOREHEADER 1 DATEFORMAT 'YYYY-MM-DD' TIMEFORMAT 'auto' EMPTYASNULL COMPUPDATE OFF";

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
type Described = z.output<typeof describedSchema>;

const startedSchema = z.object({ Id: z.string().min(1) });

/** One statement of a batch, with how an error names it. */
interface Statement {
  readonly sql: string;
  readonly label: string;
  /** For a COPY: the table whose row count it is. */
  readonly copies?: StageTableName;
}

/** One stage table's COPY manifest for a load. */
interface CopyManifest {
  readonly table: StageTableName;
  readonly key: string;
  readonly body: string;
  readonly files: readonly string[];
}

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

/**
 * The warehouse on Amazon Redshift Serverless, through the Redshift Data API (no driver, no
 * connection, no secret: the Lambda's IAM role signs in). Loads COPY from the lake's S3 objects
 * through manifests that name each file; a load, a stage creation and a clean-up each run as one
 * `BatchExecuteStatement`, which the Data API runs as one transaction.
 */
export class RedshiftDataWarehouse implements Warehouse {
  readonly #client: RedshiftDataClient;
  readonly #target: { readonly WorkgroupName: string; readonly Database: string };
  readonly #bucket: string;
  readonly #store: ObjectStore;
  readonly #copyRole: string;
  readonly #clock: Clock;
  readonly #polling: RedshiftPolling;
  #stageReady = false;

  constructor(options: RedshiftDataWarehouseOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(`RedshiftDataWarehouse options: ${describeIssues(parsed.error.issues)}`);
    }
    this.#client = options.client;
    this.#target = { WorkgroupName: options.workgroupName, Database: options.database };
    this.#bucket = options.bucket;
    this.#store = options.store;
    // Checked now, so that a bad role or bucket is a config error at cold start, not a failed load.
    try {
      this.#copyRole = redshiftLiteral('roleArn', options.copyRoleArn);
      redshiftLiteral('bucket', options.bucket);
    } catch (error) {
      throw new ConfigError(`RedshiftDataWarehouse options: ${(error as Error).message}`, { cause: error });
    }
    this.#clock = options.clock ?? systemClock;
    this.#polling = options.polling ?? defaultRedshiftPolling;
  }

  /** Creates the stage schema and tables (one batch); once done, later calls of this instance skip it. */
  async ensureStage(): Promise<void> {
    // Nothing drops the stage: a warm Lambda need not ask Redshift again on every load.
    if (this.#stageReady) return;
    const statements = stageDdl('redshift').map((sql) => ({ sql, label: sql.split('(')[0]!.trim() }));
    await this.#batch(statements, 'create the stage');
    this.#stageReady = true;
  }

  /**
   * Writes one COPY manifest per stage table that has files, then runs one batch: per stage table,
   * delete the slice, then — if it has files — one COPY of its manifest. Six statements at most,
   * however many files. The rows per table are its COPY's row count, which DescribeStatement
   * reports per sub-statement.
   */
  async loadStage(load: StageLoad): Promise<Record<StageTableName, number>> {
    const slice = sliceOf(load);
    // Everything is built (and every value checked) before anything is written or sent.
    const manifests = stageTableNames
      .filter((table) => load.files[table].length > 0)
      .map((table) => this.#manifest(load, table));
    const statements: Statement[] = stageTableNames.flatMap((table) => {
      const remove: Statement = {
        sql: embed(deleteSliceSql(table), sliceParams(load)),
        label: `delete ${slice} from ${stageSchema}.${table}`,
      };
      const manifest = manifests.find((m) => m.table === table);
      return manifest ? [remove, this.#copy(manifest)] : [remove];
    });

    await Promise.all(
      manifests.map((m) => this.#store.put(m.key, m.body, { contentType: 'application/json' })),
    );
    const described = await this.#batch(statements, `load of ${slice}`);
    const counts = Object.fromEntries(stageTableNames.map((t) => [t, 0])) as Record<StageTableName, number>;
    subStatementsOf(described, statements).forEach((sub, i) => {
      const statement = statements[i]!;
      if (!statement.copies) return;
      if (sub.ResultRows === undefined || sub.ResultRows < 0) {
        throw new InvalidRecordError(
          `load of ${slice}: Redshift reported no row count for ${statement.label} (statement ${sub.Id})`,
        );
      }
      counts[statement.copies] = sub.ResultRows;
    });
    return counts;
  }

  /**
   * The manifest of one table's files: `{"entries":[{"url":"s3://bucket/key","mandatory":true}]}`.
   * `mandatory`: a file that is missing fails the COPY, rather than loading a day without it.
   *
   * The URLs hold the keys as they are, not URL-encoded. Redshift's documentation asks for "the
   * bucket name and full object path", and says nothing of encoding either way; keys given raw are
   * what works by public reports (awslabs/aws-lambda-redshift-loader#204: a manifest that decoded a
   * `+` in a key failed, the raw key loaded). It matters little here: the keys lakeKeys builds are
   * plain ASCII (ids, dates, hex part names), and any key that is not a raw lake key is refused.
   */
  #manifest(load: StageLoad, table: StageTableName): CopyManifest {
    // A key named twice would be loaded twice.
    const files = [...new Set(load.files[table])];
    const entries = files.map((key) => ({ url: s3Uri(this.#bucket, key, 'lakeKey'), mandatory: true }));
    return {
      table,
      key: lakeKeys.copyManifest(load.chartDate, load.chartId, load.runId, table),
      body: JSON.stringify({ entries }),
      files,
    };
  }

  #copy(manifest: CopyManifest): Statement {
    const { table, key, files } = manifest;
    const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
    return {
      sql:
        `copy ${stageSchema}.${table} (${columnNames(table).join(', ')}) ` +
        `from ${s3UriLiteral(this.#bucket, key, 'copyManifestKey')} iam_role ${this.#copyRole} manifest ${copyOptions}`,
      label:
        `COPY ${stageSchema}.${table} from manifest s3://${this.#bucket}/${key} ` +
        `(${files.length} file${files.length === 1 ? '' : 's'}: ${shown})`,
      copies: table,
    };
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
    const what = `Redshift query "${sql.replace(/\s+/g, ' ').trim().slice(0, 120)}"`;
    const { text, parameters } = dataApiParameters(sql, params);
    const started = await this.#send(
      () =>
        this.#client.send(
          new ExecuteStatementCommand({
            ...this.#target,
            Sql: text,
            ...(parameters.length > 0 ? { Parameters: parameters } : {}),
          }),
        ),
      what,
    );
    const { Id } = parseAnswer(startedSchema, started, `${what}: ExecuteStatement`);
    const described = await this.#waitFor(Id, what, []);
    if (!described.HasResultSet) return [];

    const rows: R[] = [];
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
      for (const record of page.Records) rows.push(toRow(record, columns!, what) as R);
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return rows;
  }

  /**
   * Deletes the slices from every stage table: one batch (one transaction) when the statements fit
   * in one, as they do for up to about thirteen hundred slices; beyond, several batches in turn —
   * deleting is idempotent, so a failure part-way leaves only work that the retry does.
   */
  async cleanStage(slices: readonly StageSlice[]): Promise<void> {
    if (slices.length === 0) return;
    const statements: Statement[] = stageTableNames.flatMap((table) =>
      deleteSlicesStatements(table, slices).map(({ sql, params }, i) => ({
        sql: embed(sql, params),
        label: `delete ${slices.length} slice(s) from ${stageSchema}.${table} (statement ${i + 1})`,
      })),
    );
    for (let start = 0; start < statements.length; start += maxStatementsPerBatch) {
      await this.#batch(
        statements.slice(start, start + maxStatementsPerBatch),
        `clean-up of ${slices.length} slice(s) of the stage`,
      );
    }
  }

  async #batch(statements: readonly Statement[], what: string): Promise<Described> {
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

  /** Polls DescribeStatement until the statement ends; FAILED and ABORTED throw, naming it. */
  async #waitFor(id: string, what: string, statements: readonly Statement[]): Promise<Described> {
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

const sliceOf = (slice: StageSlice): string => `${slice.chartId} ${slice.chartDate} (run ${slice.runId})`;

const sliceParams = (slice: StageSlice): Record<string, SqlValue> => ({
  run_id: slice.runId,
  chart_id: slice.chartId,
  chart_date: slice.chartDate,
});

// The parameters of the stage's delete statements (`:run_id`, `:chart_id_7`…) and what each holds.
const literalKindOf = (name: string): LiteralKind => {
  const base = name.replace(/_\d+$/, '');
  if (base === 'run_id') return 'runId';
  if (base === 'chart_id') return 'chartId';
  if (base === 'chart_date') return 'isoDate';
  throw new RangeError(`no literal kind for :${name}: only slice values are embedded in a batch`);
};

/** A statement of a batch with its parameters embedded as checked literals (see {@link redshiftLiteral}). */
const embed = (sql: string, params: Record<string, SqlValue>): string =>
  bindNamed(sql, params, (name) => redshiftLiteral(literalKindOf(name), params[name])).sql;

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
  const parsed = schema.safeParse(answer);
  if (!parsed.success) {
    throw new InvalidRecordError(`${where}: unexpected answer (${describeIssues(parsed.error.issues)})`);
  }
  return parsed.data;
};

/** The sub-statements of a finished batch, in the order of its statements (their ids end `:1`, `:2`…). */
const subStatementsOf = (
  described: Described,
  statements: readonly Statement[],
): NonNullable<Described['SubStatements']> => {
  const subs = [...(described.SubStatements ?? [])].sort((a, b) => suffix(a.Id) - suffix(b.Id));
  if (subs.length !== statements.length) {
    throw new InvalidRecordError(
      `statement ${described.Id}: ${statements.length} statements sent, ${subs.length} described`,
    );
  }
  return subs;
};

const suffix = (id: string): number => Number(/:(\d+)$/.exec(id)?.[1] ?? Number.NaN);

/** A FAILED statement as an error naming what failed — for a batch, which of its statements — and Redshift's words. */
const statementFailed = (
  described: Described,
  what: string,
  statements: readonly Statement[],
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
      const name = column.label ?? column.name ?? `column_${i + 1}`;
      return [name, toPlain(record[i], column.typeName?.toLowerCase() ?? '', `${what}, column ${name}`)];
    }),
  );

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
