import { existsSync } from 'node:fs';
import { ConfigError } from '../../../shared/errors.js';
import type { AwsSession } from '../../aws/cli/aws-session.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { WarehouseReader } from '../../../shared/ports/warehouse-reader.js';
import type { CliContext } from './context.js';
import { onAws, type Target } from './target.js';

/**
 * The stack's Redshift warehouse, read only, through the Data API as the caller's IAM identity
 * (the workgroup and database from the stack's outputs).
 */
export const openRedshiftReader = async (aws: AwsSession, clock: Clock): Promise<WarehouseReader> => {
  const outputs = await aws.outputs(['WarehouseWorkgroupName', 'WarehouseDatabaseName']);
  const [{ RedshiftDataApi, defaultRedshiftPolling }, { RedshiftDataReader }] = await Promise.all([
    import('../../adapters/aws/redshift-data-api.js'),
    import('../../adapters/aws/redshift-data-reader.js'),
  ]);
  const api = new RedshiftDataApi({
    client: aws.clients.redshiftData(),
    target: { workgroupName: outputs.WarehouseWorkgroupName, database: outputs.WarehouseDatabaseName },
    clock,
    polling: defaultRedshiftPolling,
  });
  return new RedshiftDataReader(
    api,
    `Redshift ${outputs.WarehouseWorkgroupName}/${outputs.WarehouseDatabaseName} (stack ${aws.stackName}, ${aws.region})`,
  );
};

/**
 * The configured warehouse on this machine, read only: the home's DuckDB file, or CHARTFLOW_PG_URL's
 * PostgreSQL; `undefined` when it is DuckDB and the file does not exist yet. The drivers are loaded
 * here, by the commands that read, not on every start of the CLI.
 */
export const openLocalReader = async (context: CliContext): Promise<WarehouseReader | undefined> => {
  const config = context.config();
  if (config.warehouse.kind === 'postgres') {
    return new (await import('../../adapters/postgres/postgres-reader.js')).PostgresReader(
      config.warehouse.url,
    );
  }
  if (!existsSync(config.duckdbPath)) return undefined;
  return new (await import('../../adapters/embedded/duckdb-reader.js')).DuckDbReader(config.duckdbPath);
};

/**
 * The lake's tables on Athena (`chartflow sql --lake --target aws`): the stack's workgroup and Glue
 * database, as its read-only analyst role, which the command assumes whatever identity runs it.
 */
export const openAthenaReader = async (aws: AwsSession, clock: Clock): Promise<WarehouseReader> => {
  const outputs = await aws.outputs(['LakeDatabaseName', 'LakeWorkgroupName', 'LakeAnalystRoleArn']);
  const [{ AthenaReader, defaultAthenaPolling }, client] = await Promise.all([
    import('../../adapters/aws/athena-reader.js'),
    aws.clients.athenaAs(outputs.LakeAnalystRoleArn, `chartflow-sql-${clock.now().getTime()}`),
  ]);
  return new AthenaReader({
    client,
    target: { workgroup: outputs.LakeWorkgroupName, database: outputs.LakeDatabaseName },
    clock,
    polling: defaultAthenaPolling,
    label: `Athena ${outputs.LakeWorkgroupName}/${outputs.LakeDatabaseName} (stack ${aws.stackName}, ${aws.region})`,
  });
};

/** The lake's folder on this machine as tables (`chartflow sql --lake`): DuckDB views over its files. */
export const openLocalLakeReader = async (context: CliContext): Promise<WarehouseReader> =>
  new (await import('../../adapters/embedded/duckdb-lake-reader.js')).DuckDbLakeReader(
    context.config().lakeRoot,
  );

/**
 * Opens the warehouse read-only for `chartflow sql`, runs the work, closes it: on this machine
 * ({@link openLocalReader}, a missing DuckDB file said plainly) or, with `--target aws`, the stack's
 * ({@link openRedshiftReader}).
 */
export const withWarehouseReader = async <T>(
  target: Target,
  context: CliContext,
  work: (reader: WarehouseReader) => Promise<T>,
  options: { readonly lake?: boolean } = {},
): Promise<T> => {
  if (target.kind === 'aws') {
    return onAws(target, async (aws) =>
      work(await (options.lake === true ? openAthenaReader : openRedshiftReader)(aws, context.clock)),
    );
  }
  const reader = options.lake === true ? await openLocalLakeReader(context) : await openLocalReader(context);
  if (!reader) {
    throw new ConfigError(
      `there is no warehouse at ${context.config().duckdbPath} yet: \`chartflow run\` makes one`,
    );
  }
  try {
    return await work(reader);
  } finally {
    await reader.close();
  }
};
