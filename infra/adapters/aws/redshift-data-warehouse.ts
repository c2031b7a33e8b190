import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import * as z from 'zod';
import { ConfigError, InvalidRecordError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../../shared/ports/warehouse.js';
import {
  columnNames,
  stageSchema,
  stageTableNames,
  type StageTableName,
} from '../../../shared/records/stage-tables.js';
import { bindNamed } from '../sql/named-params.js';
import { deleteSliceSql, deleteSlicesStatements, stageDdl } from '../sql/stage-ddl.js';
import {
  defaultRedshiftPolling,
  maxStatementsPerBatch,
  RedshiftDataApi,
  redshiftDataOptionsSchema,
  subStatementsOf,
  type RedshiftPolling,
  type RedshiftStatement,
} from './redshift-data-api.js';
import { redshiftLiteral, s3Uri, s3UriLiteral, type LiteralKind } from './redshift-literal.js';

export { defaultRedshiftPolling, maxStatementsPerBatch, type RedshiftPolling } from './redshift-data-api.js';

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

const optionsSchema = redshiftDataOptionsSchema.extend({
  bucket: z.string().min(1, 'the lake bucket is required'),
  copyRoleArn: z.string().min(1, 'the COPY role ARN is required'),
  store: z.custom<ObjectStore>(
    (v) => typeof (v as Partial<ObjectStore> | undefined)?.put === 'function',
    'must be an ObjectStore (the lake the manifests are written to)',
  ),
});

/**
 * COPY's options for the lake's CSV (shared/records/csv.ts: RFC 4180 quoting, a header, UTF-8, LF,
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
 *   change names silently: a name lands as the source wrote it, or the load fails.
 * - `COMPUPDATE OFF`, `STATUPDATE OFF`: the stage is emptied after every run, so every COPY goes
 *   into an empty table, which by default makes Redshift choose encodings and ANALYZE it each time:
 *   time spent on a few hundred rows that are read once and deleted.
 */
export const copyOptions =
  "FORMAT AS CSV IGNOREHEADER 1 DATEFORMAT 'YYYY-MM-DD' TIMEFORMAT 'auto' EMPTYASNULL COMPUPDATE OFF STATUPDATE OFF";

/** One statement of a batch; for a COPY, the table whose row count it is. */
interface Statement extends RedshiftStatement {
  readonly copies?: StageTableName;
}

/** One stage table's COPY manifest for a load. */
interface CopyManifest {
  readonly table: StageTableName;
  readonly key: string;
  readonly body: string;
  readonly files: readonly string[];
}

/**
 * The warehouse on Amazon Redshift Serverless, through the Redshift Data API (no driver, no
 * connection, no secret: the Lambda's IAM role signs in). Loads COPY from the lake's S3 objects
 * through manifests that name each file; a load, a stage creation and a clean-up each run as one
 * `BatchExecuteStatement`, which the Data API runs as one transaction.
 */
export class RedshiftDataWarehouse implements Warehouse {
  readonly #api: RedshiftDataApi;
  readonly #bucket: string;
  readonly #store: ObjectStore;
  readonly #copyRole: string;
  #stageReady = false;

  constructor(options: RedshiftDataWarehouseOptions) {
    parseOrThrow(optionsSchema, options, 'RedshiftDataWarehouse options', ConfigError);
    this.#bucket = options.bucket;
    this.#store = options.store;
    // Checked now, so that a bad role or bucket is a config error at cold start, not a failed load.
    try {
      this.#copyRole = redshiftLiteral('roleArn', options.copyRoleArn);
      redshiftLiteral('bucket', options.bucket);
    } catch (error) {
      throw new ConfigError(`RedshiftDataWarehouse options: ${(error as Error).message}`, { cause: error });
    }
    this.#api = new RedshiftDataApi({
      client: options.client,
      target: { workgroupName: options.workgroupName, database: options.database },
      clock: options.clock ?? systemClock,
      polling: options.polling ?? defaultRedshiftPolling,
    });
  }

  /** Creates the stage schema and tables (one batch); once done, later calls of this instance skip it. */
  async ensureStage(): Promise<void> {
    // Nothing drops the stage: a warm Lambda need not ask Redshift again on every load.
    if (this.#stageReady) return;
    const statements = stageDdl('redshift').map((sql) => ({ sql, label: sql.split('(')[0]!.trim() }));
    await this.#api.batch(statements, 'create the stage');
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
    const described = await this.#api.batch(statements, `load of ${slice}`);
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
  query<R extends Record<string, unknown>>(sql: string, params: Record<string, SqlValue> = {}): Promise<R[]> {
    return this.#api.query<R>(sql, params);
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
      await this.#api.batch(
        statements.slice(start, start + maxStatementsPerBatch),
        `clean-up of ${slices.length} slice(s) of the stage`,
      );
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
