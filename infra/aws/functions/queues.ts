import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../../adapters/aws/sqs-queue.js';
import type { AwsFunctionEnv } from './environment.js';

/** An SQS queue by URL (the track queue, the transform queue). */
export const sqsQueue = ({ clientConfig }: AwsFunctionEnv, queueUrl: string): SqsQueue =>
  new SqsQueue({ client: new SQSClient(clientConfig), queueUrl });
