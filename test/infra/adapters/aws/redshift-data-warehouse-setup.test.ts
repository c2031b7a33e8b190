import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type DescribeStatementResponse,
  type GetStatementResultResponse,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RedshiftDataWarehouseSetup,
  redshiftRoleUser,
} from '../../../../infra/adapters/aws/redshift-data-warehouse-setup.js';
import { stageDdl } from '../../../../infra/adapters/sql/stage-ddl.js';
import { ConfigError, InvalidRecordError, PermanentError } from '../../../../shared/errors.js';
import { manualClock } from '../../../shared/http/manual-clock.js';
import { createTestDatabase, postgresAvailable, postgresUrl } from '../../../support/services.js';

const redshift = mockClient(RedshiftDataClient);
const client = new RedshiftDataClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const adminSecretArn =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chartflow-prod/warehouse-admin-AbCdEf';

const make = () =>
  new RedshiftDataWarehouseSetup({
    client,
    workgroupName: 'chartflow-prod',
    database: 'chartflow',
    adminSecretArn,
    clock: manualClock(),
  });

const grant = { pipelineRole: 'chartflow-prod-warehouse', schemas: ['stage', 'marts'] };
const user = 'IAMR:chartflow-prod-warehouse';

const finished = (id: string, statements = 0, hasResultSet = false): DescribeStatementResponse => ({
  Id: id,
  Status: 'FINISHED',
  HasResultSet: hasResultSet,
  ...(statements > 0
    ? {
        SubStatements: Array.from({ length: statements }, (_, i) => ({
          Id: `${id}:${i + 1}`,
          Status: 'FINISHED',
        })),
      }
    : {}),
});

/** pg_user's answer: the user listed under these names (none: not there). */
const users = (...names: string[]): GetStatementResultResponse => ({
  ColumnMetadata: [{ name: 'usename', typeName: 'name' }],
  Records: names.map((name) => [{ stringValue: name }]),
  TotalNumRows: names.length,
});

/**
 * The Data API as the mock answers it: each query (pg_user) answers the next of `lookups`, each
 * batch finishes, or fails at its first statement that `refuse` gives an error for.
 */
const answer = (lookups: GetStatementResultResponse[], refuse?: (sql: string) => string | undefined) => {
  let queries = 0;
  let batches = 0;
  const sqlsOf = new Map<string, string[]>();
  redshift.on(ExecuteStatementCommand).callsFake(() => ({ Id: `q${++queries}` }));
  redshift.on(BatchExecuteStatementCommand).callsFake((input: { Sqls: string[] }) => {
    const id = `b${++batches}`;
    sqlsOf.set(id, input.Sqls);
    return { Id: id };
  });
  redshift.on(DescribeStatementCommand).callsFake((input: { Id: string }) => {
    if (input.Id.startsWith('q')) return finished(input.Id, 0, true);
    const sqls = sqlsOf.get(input.Id)!;
    const failing = refuse ? sqls.findIndex((sql) => refuse(sql) !== undefined) : -1;
    if (failing < 0) return finished(input.Id, sqls.length);
    const error = refuse!(sqls[failing]!)!;
    return {
      Id: input.Id,
      Status: 'FAILED',
      Error: error,
      SubStatements: sqls.map((_, i) => ({
        Id: `${input.Id}:${i + 1}`,
        Status: i === failing ? 'FAILED' : i < failing ? 'FINISHED' : 'ABORTED',
        ...(i === failing ? { Error: error } : {}),
      })),
    };
  });
  redshift.on(GetStatementResultCommand).callsFake((input: { Id: string }) => {
    const index = Number(input.Id.slice(1)) - 1;
    return lookups[Math.min(index, lookups.length - 1)]!;
  });
};

const batches = () => redshift.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input);
const queries = () => redshift.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);

const grantSqls = [
  `grant create, temporary on database "chartflow" to "${user}"`,
  `create schema if not exists "stage" authorization "${user}"`,
  `alter schema "stage" owner to "${user}"`,
  `create schema if not exists "marts" authorization "${user}"`,
  `alter schema "marts" owner to "${user}"`,
];

beforeEach(() => {
  redshift.reset();
});

describe('Class: RedshiftDataWarehouseSetup', () => {
  it('names the user an IAM role signs in as IAMR:<role name>', () => {
    expect(redshiftRoleUser('chartflow-prod-warehouse')).toBe(user);
  });

  it('creates the user before its first sign-in, IAM only, then grants its schemas — all as the admin secret', async () => {
    answer([users(), users(user)]);
    await expect(make().preparePipelineUser(grant)).resolves.toEqual({ user, created: true });

    // pg_user is asked with the name bound by the Data API, never spliced in.
    expect(queries()).toHaveLength(2);
    for (const q of queries()) {
      expect(q).toEqual({
        WorkgroupName: 'chartflow-prod',
        Database: 'chartflow',
        SecretArn: adminSecretArn,
        Sql: 'select usename from pg_user where usename = :user_name',
        Parameters: [{ name: 'user_name', value: user }],
      });
    }
    expect(batches()).toEqual([
      {
        WorkgroupName: 'chartflow-prod',
        Database: 'chartflow',
        SecretArn: adminSecretArn,
        StatementName: 'chartflow',
        Sqls: [`create user "${user}" password disable`],
      },
      {
        WorkgroupName: 'chartflow-prod',
        Database: 'chartflow',
        SecretArn: adminSecretArn,
        StatementName: 'chartflow',
        Sqls: grantSqls,
      },
    ]);
  });

  it('creates no user that exists already (a second deploy, or the role signed in before), and grants again', async () => {
    answer([users(user)]);
    await expect(make().preparePipelineUser(grant)).resolves.toEqual({ user, created: false });
    expect(queries()).toHaveLength(1);
    expect(batches().map((b) => b.Sqls)).toEqual([grantSqls]);
  });

  it('goes on when the role signed in between the look and the creation', async () => {
    answer([users(), users(user)], (sql) =>
      sql.startsWith('create user') ? `user "${user}" already exists` : undefined,
    );
    await expect(make().preparePipelineUser(grant)).resolves.toEqual({ user, created: false });
    expect(batches().map((b) => b.Sqls)).toHaveLength(2);
  });

  it('fails, saying why, when pg_user does not list the user under its exact name after creating it', async () => {
    // As Redshift would if it folded the name to lower case: the IAM sign-in would be another user.
    answer([users(), users(user.toLowerCase())]);
    const error = await make()
      .preparePipelineUser(grant)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(
      /the database user IAMR:chartflow-prod-warehouse was created, but pg_user does not list it under that exact name/,
    );
    // No grant went to a user of another spelling.
    expect(batches()).toHaveLength(1);
  });

  it('names the statement Redshift refused, as a permanent error', async () => {
    answer([users(user)], (sql) =>
      sql.startsWith('create schema if not exists "marts"')
        ? 'permission denied for database chartflow'
        : undefined,
    );
    await expect(make().preparePipelineUser(grant)).rejects.toThrow(
      new PermanentError(
        `grants of the database user ${user} failed at create schema marts: ` +
          'permission denied for database chartflow (statement b1:4)',
      ),
    );
  });

  it('refuses a role or schema name that is not a name of ours, and sends nothing', async () => {
    answer([users(user)]);
    await expect(make().preparePipelineUser({ ...grant, pipelineRole: 'x" cascade; --' })).rejects.toThrow(
      InvalidRecordError,
    );
    await expect(make().preparePipelineUser({ ...grant, schemas: ['stage', 'Marts; drop'] })).rejects.toThrow(
      /refusing to embed "Marts; drop" in SQL as a schema name/,
    );
    expect(redshift.calls()).toHaveLength(0);
  });

  it('refuses options it cannot sign in with, at once', () => {
    expect(
      () =>
        new RedshiftDataWarehouseSetup({
          client,
          workgroupName: 'chartflow-prod',
          database: 'chartflow',
          adminSecretArn: 'chartflow-prod/warehouse-admin',
        }),
    ).toThrow(
      new ConfigError(
        'RedshiftDataWarehouseSetup options: ✖ must be a Secrets Manager secret ARN → at adminSecretArn',
      ),
    );
    expect(
      () =>
        new RedshiftDataWarehouseSetup({
          client,
          workgroupName: 'chartflow-prod',
          database: 'Chartflow"',
          adminSecretArn,
        }),
    ).toThrow(
      /RedshiftDataWarehouseSetup options: refusing to embed "Chartflow\\"" in SQL as a database name/,
    );
  });
});

const available = await postgresAvailable();

describe.skipIf(!available)('RedshiftDataWarehouseSetup grants on a real PostgreSQL', () => {
  // Roles are global to a PostgreSQL server: a name of this run only, dropped at the end.
  const role = `chartflow-test-${process.pid}-warehouse`;
  const pgUser = redshiftRoleUser(role);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: pg.Client;
  let asPipeline: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('warehouse_setup');
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    // PostgreSQL has no PASSWORD DISABLE; a role without a password that may log in stands for it.
    await admin.query(`create role "${pgUser}" login`);
    asPipeline = new pg.Client({ connectionString: database.url });
    await asPipeline.connect();
  });
  afterAll(async () => {
    await asPipeline?.end();
    await admin?.end();
    await database?.drop();
    const server = new pg.Client({ connectionString: postgresUrl });
    await server.connect();
    await server.query(`drop role if exists "${pgUser}"`);
    await server.end();
  });

  it('gives the pipeline user what the loader and dbt do, and nothing more', async () => {
    answer([users(pgUser)]);
    await new RedshiftDataWarehouseSetup({
      client,
      workgroupName: 'w',
      database: database.url.split('/').at(-1)!,
      adminSecretArn,
    }).preparePipelineUser({ pipelineRole: role, schemas: ['stage', 'marts'] });
    // Every statement runs as sent, twice (a second deploy).
    const [sqls] = batches().map((b) => b.Sqls!);
    for (const sql of [...sqls!, ...sqls!]) await admin.query(sql);

    const owners = await admin.query(
      `select nspname as schema, pg_get_userbyid(nspowner) as owner from pg_namespace
        where nspname in ('stage', 'marts') order by 1`,
    );
    expect(owners.rows).toEqual([
      { schema: 'marts', owner: pgUser },
      { schema: 'stage', owner: pgUser },
    ]);

    await asPipeline.query(`set role "${pgUser}"`);
    // The loader: the stage's tables (its DDL, as RedshiftDataWarehouse sends it).
    for (const sql of stageDdl('redshift')) await asPipeline.query(sql);
    // dbt: a model in marts, a schema of its own, a temporary table.
    await asPipeline.query('create table marts.dim_probe (probe_id int)');
    await asPipeline.query('create schema if not exists staging');
    await asPipeline.query('create temporary table probe_tmp (x int)');
    // Nothing beyond: no other schema's tables, no users.
    await expect(asPipeline.query('create table public.probe (x int)')).rejects.toThrow(/permission denied/);
    await expect(asPipeline.query('create role someone_else')).rejects.toThrow(/permission denied/);
  });
});
