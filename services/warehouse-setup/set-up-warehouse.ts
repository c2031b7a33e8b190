import * as z from 'zod';
import { parseOrThrow } from '../../shared/parse.js';
import { physicalIdOf, type CustomResourceOutcome, type CustomResourceRequest } from './custom-resource.js';
import { logger } from '../../shared/logger.js';
import type { WarehouseSetup } from '../../shared/ports/warehouse-setup.js';

/** The warehouse a request is about, and the admin secret its set-up signs in with. */
export interface WarehouseSetupTarget {
  readonly workgroupName: string;
  readonly database: string;
  readonly adminSecretArn: string;
}

export interface WarehouseSetupDeps {
  /** The set-up of the warehouse the request names (on AWS: the Data API, signed in with the admin secret). */
  readonly warehouseSetup: (target: WarehouseSetupTarget) => Promise<WarehouseSetup>;
}

// CloudFormation sends every property as it is in the template (ServiceToken, ServiceTimeout too).
const propertiesSchema = z
  .object({
    WorkgroupName: z.string().min(1),
    Database: z.string().min(1),
    AdminSecretArn: z.string().min(1),
    PipelineRole: z.string().min(1),
    Schemas: z.array(z.string().min(1)).min(1),
  })
  .loose();

/**
 * The warehouse's set-up as a CloudFormation custom resource (`Custom::WarehouseSetup`,
 * infra/warehouse.yml). Create and Update prepare the pipeline's database user and its schemas;
 * the resource's id names the workgroup, database and user, so a change of any is a replacement.
 * Delete leaves the warehouse alone: the user and schemas go with the namespace when the stack
 * does, and dropping a user that owns the marts would lose them.
 *
 * @throws {InvalidRecordError} naming the property, for properties that are not a set-up's
 * @throws what the set-up throws: the handler answers CloudFormation FAILED with its message
 */
export const setUpWarehouse = async (
  request: CustomResourceRequest,
  deps: WarehouseSetupDeps,
): Promise<CustomResourceOutcome> => {
  if (request.RequestType === 'Delete') {
    logger.info('warehouse set-up deleted: nothing to undo', {
      physicalResourceId: request.PhysicalResourceId,
    });
    return { physicalResourceId: physicalIdOf(request) };
  }
  const { WorkgroupName, Database, AdminSecretArn, PipelineRole, Schemas } = parseOrThrow(
    propertiesSchema,
    request.ResourceProperties,
    `${request.LogicalResourceId} properties`,
  );
  const setup = await deps.warehouseSetup({
    workgroupName: WorkgroupName,
    database: Database,
    adminSecretArn: AdminSecretArn,
  });
  const { user, created } = await setup.preparePipelineUser({ pipelineRole: PipelineRole, schemas: Schemas });
  logger.info('warehouse set up', {
    workgroup: WorkgroupName,
    database: Database,
    user,
    created,
    schemas: Schemas,
  });
  return { physicalResourceId: `${WorkgroupName}/${Database}/${user}`, data: { User: user } };
};
