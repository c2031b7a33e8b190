/**
 * What one dbt run is for: a transform batch, whose loads the lake lists (`TransformBatches`). It
 * travels as the task's environment, so the stopped event carries it back; one id, however many
 * days the batch holds, keeps it far below the 8 KiB ECS allows for overrides.
 */
export interface TransformRequest {
  readonly batchId: string;
}

/**
 * Starts `dbt build` for what the stage holds: an ECS Fargate task on AWS (`EcsTransformRunner`), a
 * local process on one machine (`LocalDbtRunner`). It only starts it: when the run stops, an ECS Task
 * State Change event (or its local twin) reaches the stage clean-up, success or not.
 */
export interface TransformRunner {
  start(request: TransformRequest): Promise<{ readonly taskId: string }>;
}
