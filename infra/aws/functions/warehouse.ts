import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { defaultRedshiftPolling } from '../../adapters/aws/redshift-data-api.js';
import { RedshiftDataWarehouse } from '../../adapters/aws/redshift-data-warehouse.js';
import type { AwsFunctionEnv } from './environment.js';

/** How long one warehouse statement may take on AWS; test/infra/aws checks it against the functions' timeouts. */
export const warehouseStatementTimeoutMs = 100_000;

/**
 * The warehouse through the Redshift Data API. A statement is given up on (and cancelled) before
 * the shortest timeout of the functions that use the warehouse (stageCleanup's 120 s) ends the
 * invocation first.
 */
export const redshiftWarehouse = (
  { config, clientConfig, clock }: AwsFunctionEnv,
  store: ObjectStore,
): RedshiftDataWarehouse =>
  new RedshiftDataWarehouse({
    client: new RedshiftDataClient(clientConfig),
    workgroupName: config.redshift.workgroupName,
    database: config.redshift.database,
    bucket: config.bucket,
    store,
    copyRoleArn: config.redshift.copyRoleArn,
    clock,
    polling: { ...defaultRedshiftPolling, timeoutMs: warehouseStatementTimeoutMs },
  });
