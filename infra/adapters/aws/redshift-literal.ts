import * as z from 'zod';
import { InvalidRecordError } from '../../../shared/errors.js';
import {
  isoDate,
  lakeKeys,
  parseCopyManifestKey,
  parseRawKey,
  parseTableKey,
} from '../../../shared/lake/keys.js';
import { chartId, runId } from '../../../shared/records/messages.js';
import { stageTableNames } from '../../../shared/records/stage-tables.js';

// Control characters have no business in a key we wrote, and a newline in SQL text only hides things.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * What may be embedded in SQL sent to Redshift, each kind with the schema that already admitted it
 * into the pipeline. Only these: anything else is bound as a parameter, or refused.
 */
const kinds = {
  runId,
  chartId,
  isoDate,
  /**
   * A table key of the lake (`tables/<table>/date=…/chart=…/<file>`), or a raw key of a day written
   * before (`raw/<dataset>/date=…/chart=…/<file>`, shared/lake/keys.ts `legacyLakeKeys`): what a load COPYs.
   */
  lakeKey: z
    .string()
    .refine(
      (key) => parseTableKey(key) !== undefined || parseRawKey(key) !== undefined,
      'not a table or raw lake key (tables/<table>/date=…/chart=…/<file>, raw/<dataset>/date=…/chart=…/<file>)',
    )
    .refine((key) => !controlCharacters.test(key), 'a lake key holds no control characters'),
  /** A COPY manifest key ({@link lakeKeys}`.copyManifest`) of a valid run, chart, day and stage table. */
  copyManifestKey: z.string().refine((key) => {
    const parsed = parseCopyManifestKey(key);
    return (
      parsed !== undefined &&
      runId.safeParse(parsed.runId).success &&
      chartId.safeParse(parsed.chart).success &&
      (stageTableNames as readonly string[]).includes(parsed.table) &&
      lakeKeys.copyManifest(parsed.date, parsed.chart, parsed.runId, parsed.table) === key
    );
  }, 'not a COPY manifest key (control/copy-manifests/date=…/chart=…/run=…/<stage table>.manifest)'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not an S3 bucket name'),
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'not an IAM role ARN'),
} as const;

/** The kinds of value {@link redshiftLiteral} embeds. */
export type LiteralKind = keyof typeof kinds;

const quote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/** The value if it passes the schema; else an error naming it, what it was to be, and why not. */
const admitted = (schema: z.ZodType<string>, value: unknown, what: string): string => {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const shown = JSON.stringify(value)?.slice(0, 200) ?? String(value);
    throw new InvalidRecordError(
      `refusing to embed ${shown} in SQL as a ${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return parsed.data;
};

const checked = (kind: LiteralKind, value: unknown): string => admitted(kinds[kind], value, kind);

/**
 * A Redshift string literal for a value that passed one of our schemas.
 *
 * Why literals at all: the statements of a `BatchExecuteStatement` batch (one transaction for a whole
 * load) are sent without parameters — the API's batch parameters are one set shared by every
 * statement, newer than the batch itself — and COPY's source and IAM role cannot be parameters. So
 * the few values those statements need are embedded — but only values of the kinds above, each
 * checked again against the schema that admitted it (ids, dates, lake keys, a bucket, a role ARN),
 * so nothing that arrived from outside reaches SQL unchecked. The quoting is done anyway, as
 * Redshift's `QUOTE_LITERAL` does: quotes doubled, and backslashes doubled too, because Redshift
 * (unlike PostgreSQL today) reads a backslash in a string literal as an escape.
 *
 * @throws {InvalidRecordError} when the value is not of its kind; the message names the value and why
 */
export const redshiftLiteral = (kind: LiteralKind, value: unknown): string => quote(checked(kind, value));

/** The kinds of key an `s3://` URI of ours may name. */
export type S3KeyKind = Extract<LiteralKind, 'lakeKey' | 'copyManifestKey'>;

/**
 * `s3://bucket/key` for a bucket and key that passed their checks, the key as it is (not
 * URL-encoded): COPY takes an object path literally, spaces and any Unicode included.
 *
 * @throws {InvalidRecordError} when the bucket or the key is not of its kind
 */
export const s3Uri = (bucket: string, key: string, kind: S3KeyKind = 'lakeKey'): string =>
  `s3://${checked('bucket', bucket)}/${checked(kind, key)}`;

/** The `'s3://bucket/key'` literal of a COPY source: {@link s3Uri}, quoted. */
export const s3UriLiteral = (bucket: string, key: string, kind: S3KeyKind = 'lakeKey'): string =>
  quote(s3Uri(bucket, key, kind));

/**
 * Names that may be embedded in Redshift SQL as identifiers, each with its pattern: a database and
 * a schema as chartflow names them (lower case, the template's AllowedPattern), and the database
 * user an IAM role signs in as (`IAMR:` and an IAM role name, which IAM keeps to `[\w+=,.@-]`).
 */
const identifierKinds = {
  database: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'not a database name of ours ([a-z][a-z0-9_]*)'),
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,126}$/, 'not a schema name of ours ([a-z_][a-z0-9_]*)'),
  roleUser: z
    .string()
    .regex(/^IAMR:[\w+=,.@-]{1,64}$/, 'not the database user of an IAM role (IAMR:<role name>)'),
} as const;

/** The kinds of name {@link redshiftIdentifier} embeds. */
export type IdentifierKind = keyof typeof identifierKinds;

/**
 * A Redshift delimited identifier (`"IAMR:chartflow-prod-warehouse"`) for a name that passed its
 * kind's pattern. The patterns admit no double quote, so quoting cannot be escaped from; the quotes
 * are what lets `IAMR:` and a role's `-` appear in a user name at all.
 *
 * @throws {InvalidRecordError} when the name is not of its kind; the message names it and why
 */
export const redshiftIdentifier = (kind: IdentifierKind, name: unknown): string =>
  `"${admitted(identifierKinds[kind], name, `${kind} name`)}"`;
