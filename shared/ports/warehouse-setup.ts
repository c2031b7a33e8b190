/** What the pipeline's database user is to be given. */
export interface PipelineUserGrant {
  /**
   * The IAM role the pipeline signs in as: the one role of the loader, transform, stage clean-up
   * and the dbt task, which the warehouse maps to one database user.
   */
  readonly pipelineRole: string;
  /** Schemas the pipeline owns from the start; it may create others itself (dbt does). */
  readonly schemas: readonly string[];
}

/** The database user a {@link WarehouseSetup} prepared. */
export interface PipelineUser {
  /** Its name in the warehouse (on Redshift `IAMR:<role name>`). */
  readonly user: string;
  /** Whether this call created it (it had never signed in and was not created before). */
  readonly created: boolean;
}

/**
 * The warehouse's one-time set-up, done as its administrator when the stack is deployed: the
 * pipeline's user exists before its first sign-in, owns its schemas and may create more, and has
 * no other right. Every call may be repeated: it leaves the warehouse as one call would.
 */
export interface WarehouseSetup {
  preparePipelineUser(grant: PipelineUserGrant): Promise<PipelineUser>;
}
