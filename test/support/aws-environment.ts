/** The environment serverless.yml gives a function, with values as CloudFormation resolves them. */
export const lambdaEnvironment = (): Record<string, string | undefined> => ({
  CHARTFLOW_BUCKET: 'chartflow-dev-lake-123456789012-eu-west-1',
  CHARTFLOW_TRACK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/chartflow-dev-tracks',
  CHARTFLOW_TRANSFORM_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/chartflow-dev-transform',
  CHARTFLOW_EVENT_BUS: 'chartflow-dev',
  CHARTFLOW_CHARTS: 'global=37i9dQZEVXbMDoHDwVN2tF, us=37i9dQZEVXbLRQDuF5jeBp',
  CHARTFLOW_SPOTIFY_SECRET_ID:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chartflow-dev/spotify-AbCdEf',
  CHARTFLOW_MAX_RECEIVE_COUNT: '3',
  CHARTFLOW_RECCOBEATS: 'on',
  SPOTIFY_RATE_LIMIT: '30/30',
  RECCOBEATS_RATE_LIMIT: '20/30',
  REDSHIFT_WORKGROUP: 'chartflow-dev',
  REDSHIFT_DATABASE: 'chartflow',
  REDSHIFT_COPY_ROLE_ARN: 'arn:aws:iam::123456789012:role/chartflow-dev-redshift-copy',
  CHARTFLOW_ECS_CLUSTER: 'chartflow-dev',
  CHARTFLOW_DBT_TASK_DEFINITION: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/chartflow-dev-dbt:1',
  CHARTFLOW_SUBNETS: 'subnet-0a1b2c3d,subnet-0e1f2a3b,subnet-0c4d5e6f',
  CHARTFLOW_SECURITY_GROUPS: 'sg-0123abcd',
});
