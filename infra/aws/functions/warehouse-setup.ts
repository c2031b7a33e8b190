import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { makeHandler } from '../../../services/warehouse-setup/handler.js';
import type { WarehouseSetupTarget } from '../../../services/warehouse-setup/set-up-warehouse.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import type { WarehouseSetup } from '../../../shared/ports/warehouse-setup.js';
import { defaultRedshiftPolling } from '../../adapters/aws/redshift-data-api.js';
import { RedshiftDataWarehouseSetup } from '../../adapters/aws/redshift-data-warehouse-setup.js';
import type { AwsClientConfig } from './environment.js';

/** How long one statement of the deploy's warehouse set-up may take; test/infra/aws checks it against the function's timeout. */
export const warehouseSetupStatementTimeoutMs = 120_000;

/**
 * The warehouse set-up a deploy's custom resource asks for, signed in with the admin secret it
 * names. Each statement is waited for at most {@link warehouseSetupStatementTimeoutMs}, well
 * inside the function's timeout, so that CloudFormation always gets an answer.
 */
export const awsWarehouseSetup = (
  target: WarehouseSetupTarget,
  clientConfig: AwsClientConfig = {},
  clock: Clock = systemClock,
): WarehouseSetup =>
  new RedshiftDataWarehouseSetup({
    client: new RedshiftDataClient({ ...clientConfig }),
    workgroupName: target.workgroupName,
    database: target.database,
    adminSecretArn: target.adminSecretArn,
    clock,
    polling: { ...defaultRedshiftPolling, timeoutMs: warehouseSetupStatementTimeoutMs },
  });

/**
 * The Lambda entry point (serverless.yml: warehouseSetup). It needs none of the pipeline's
 * configuration, only what the request names.
 */
export const handler = makeHandler({ warehouseSetup: async (target) => awsWarehouseSetup(target) });
