import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import type { AwsFunctionEnv } from './environment.js';

/** The lake on S3: every function that reads or writes it builds it here. */
export const lakeStore = ({ config, clientConfig }: AwsFunctionEnv): S3ObjectStore =>
  new S3ObjectStore({ client: new S3Client(clientConfig), bucket: config.bucket });
