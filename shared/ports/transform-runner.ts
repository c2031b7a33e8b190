/** What one dbt run is for. It travels as the task's environment, so the finished event carries it back. */
export interface TransformRequest {
  readonly runId: string;
  readonly loadId: string;
  readonly chartId: string;
  readonly chartDate: string;
}

/**
 * Starts `dbt build` for a loaded day: an ECS Fargate task on AWS (`EcsTransformRunner`), a local
 * process on one machine (`LocalDbtRunner`). It only starts it: when the run stops, an ECS Task State
 * Change event (or its local twin) reaches the stage clean-up, success or not.
 */
export interface TransformRunner {
  start(request: TransformRequest): Promise<{ readonly taskId: string }>;
}
