import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import * as z from 'zod';
import { ConfigError, PermanentError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import type {
  PipelineUser,
  PipelineUserGrant,
  WarehouseSetup,
} from '../../../shared/ports/warehouse-setup.js';
import {
  defaultRedshiftPolling,
  RedshiftDataApi,
  redshiftDataOptionsSchema,
  type RedshiftPolling,
  type RedshiftStatement,
} from './redshift-data-api.js';
import { redshiftIdentifier } from './redshift-literal.js';

/** Options of a {@link RedshiftDataWarehouseSetup}. */
export interface RedshiftDataWarehouseSetupOptions {
  readonly client: RedshiftDataClient;
  /** The Redshift Serverless workgroup. */
  readonly workgroupName: string;
  readonly database: string;
  /** The Secrets Manager secret of the namespace's admin, `{"username","password"}`: the set-up signs in with it. */
  readonly adminSecretArn: string;
  readonly clock?: Clock;
  readonly polling?: RedshiftPolling;
}

const optionsSchema = redshiftDataOptionsSchema.extend({
  adminSecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    ),
});

/**
 * Redshift's name for the database user an IAM role signs in as, through the Data API or
 * `redshift-serverless:GetCredentials` (dbt's `iam_role` login): `IAMR:<role name>`.
 */
export const redshiftRoleUser = (roleName: string): string => `IAMR:${roleName}`;

const userQuery = 'select usename from pg_user where usename = :user_name';

/**
 * The warehouse's set-up on Redshift Serverless, through the Data API signed in as the namespace's
 * admin (a secret: the pipeline's own role has no right to create users). It creates the pipeline
 * role's user before that role ever signs in (`PASSWORD DISABLE`: it signs in by IAM only), makes it
 * the owner of the given schemas and lets it create schemas and temporary tables in the database.
 * Nothing else: the user gets no superuser, no right over other users, no other database.
 */
export class RedshiftDataWarehouseSetup implements WarehouseSetup {
  readonly #api: RedshiftDataApi;
  readonly #database: string;

  constructor(options: RedshiftDataWarehouseSetupOptions) {
    parseOrThrow(optionsSchema, options, 'RedshiftDataWarehouseSetup options', ConfigError);
    try {
      this.#database = redshiftIdentifier('database', options.database);
    } catch (error) {
      throw new ConfigError(`RedshiftDataWarehouseSetup options: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#api = new RedshiftDataApi({
      client: options.client,
      target: {
        workgroupName: options.workgroupName,
        database: options.database,
        secretArn: options.adminSecretArn,
      },
      clock: options.clock ?? systemClock,
      polling: options.polling ?? defaultRedshiftPolling,
    });
  }

  /**
   * Creates the user if pg_user does not list it, and checks that pg_user then lists it under its
   * exact name: a user of another spelling would never be the one IAM signs in as (Redshift's
   * documentation says a quoted user name keeps its case, `IAMR:` included; this makes sure).
   * Then grants, in one batch: CREATE and TEMPORARY on the database, and each schema, created if
   * missing, owned by the user.
   *
   * @throws {InvalidRecordError} for a role or schema name that cannot be a Redshift name of ours
   * @throws {PermanentError} naming the statement that Redshift refused, or the user it cannot find
   */
  async preparePipelineUser(grant: PipelineUserGrant): Promise<PipelineUser> {
    const user = redshiftRoleUser(grant.pipelineRole);
    const quotedUser = redshiftIdentifier('roleUser', user);
    // Every name is checked before anything is sent.
    const schemas = [...new Set(grant.schemas)].map((schema) => ({
      name: schema,
      quoted: redshiftIdentifier('schema', schema),
    }));

    let created = false;
    if (!(await this.#exists(user))) {
      try {
        await this.#api.batch(
          [{ sql: `create user ${quotedUser} password disable`, label: `create user ${user}` }],
          `creation of the database user ${user}`,
        );
        created = true;
      } catch (error) {
        // It signed in between the look and the creation (an IAM sign-in creates its user too).
        if (!/already exists/i.test((error as Error).message)) throw error;
      }
      if (!(await this.#exists(user))) {
        throw new PermanentError(
          `the database user ${user} was created, but pg_user does not list it under that exact name; ` +
            `the pipeline's IAM sign-in would not be that user`,
        );
      }
    }

    const grants: RedshiftStatement[] = [
      {
        sql: `grant create, temporary on database ${this.#database} to ${quotedUser}`,
        label: `grant create, temporary on the database to ${user}`,
      },
      ...schemas.flatMap(({ name, quoted }) => [
        {
          sql: `create schema if not exists ${quoted} authorization ${quotedUser}`,
          label: `create schema ${name}`,
        },
        // A schema created earlier by someone else (the admin, by hand) becomes the pipeline's too.
        { sql: `alter schema ${quoted} owner to ${quotedUser}`, label: `give schema ${name} to ${user}` },
      ]),
    ];
    await this.#api.batch(grants, `grants of the database user ${user}`);
    return { user, created };
  }

  async #exists(user: string): Promise<boolean> {
    const rows = await this.#api.query<{ usename: string }>(userQuery, { user_name: user });
    return rows.some((row) => row.usename === user);
  }
}
