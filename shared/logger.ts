import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of chartflow. Log keys and counts, never payloads or secrets. */
export const logger = new Logger({ serviceName: 'chartflow' });
