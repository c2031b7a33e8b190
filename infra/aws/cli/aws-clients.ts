import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { LambdaFunctionInvoker } from '../../adapters/aws/lambda-function-invoker.js';
import type { FunctionInvoker } from '../../../shared/ports/function-invoker.js';

/** SDK client settings the CLI adds to every client it makes, besides the region. */
export interface AwsClientSettings {
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/**
 * How the CLI reaches AWS. Left empty, the SDK finds credentials by its default chain (AWS_PROFILE,
 * the environment, SSO, instance roles) and talks to AWS itself; tests point the clients at moto and
 * invoke functions in-process (Lambda cannot run under moto without Docker).
 */
export interface AwsAccess {
  readonly clientSettings?: AwsClientSettings;
  /** Replaces {@link LambdaFunctionInvoker} for invoking the stack's functions. */
  readonly functionInvoker?: (region: string) => FunctionInvoker;
}

/** The clients of one CLI command, in one region. `destroy()` closes their connections. */
export interface AwsClients {
  readonly region: string;
  readonly cloudFormation: CloudFormationClient;
  readonly s3: S3Client;
  readonly functions: FunctionInvoker;
  /** The Redshift Data API's client, made when first asked for. */
  redshiftData(): RedshiftDataClient;
  /** EventBridge's client, made when first asked for. */
  eventBridge(): EventBridgeClient;
  /**
   * An Athena client acting as `roleArn`: the role is assumed (STS AssumeRole) with the command's
   * own credentials, for one session named after the command.
   */
  athenaAs(roleArn: string, sessionName: string): Promise<AthenaClient>;
  destroy(): void;
}

/** Makes the clients a command needs, in `region`, with what `access` adds. */
export const openAwsClients = (region: string, access: AwsAccess = {}): AwsClients => {
  const config = { ...access.clientSettings, region };
  const cloudFormation = new CloudFormationClient(config);
  const s3 = new S3Client(config);
  let lambda: LambdaClient | undefined;
  let redshiftData: RedshiftDataClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  const assumed: { destroy(): void }[] = [];
  const functions =
    access.functionInvoker?.(region) ??
    new LambdaFunctionInvoker({ client: (lambda = new LambdaClient(config)) });
  return {
    region,
    cloudFormation,
    s3,
    functions,
    redshiftData: () => (redshiftData ??= new RedshiftDataClient(config)),
    eventBridge: () => (eventBridge ??= new EventBridgeClient(config)),
    athenaAs: async (roleArn, sessionName) => {
      const sts = new STSClient(config);
      assumed.push(sts);
      const { Credentials: credentials } = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600 }),
      );
      if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
        throw new Error(`STS AssumeRole ${roleArn} answered without credentials`);
      }
      const athena = new AthenaClient({
        ...config,
        credentials: {
          accessKeyId: credentials.AccessKeyId,
          secretAccessKey: credentials.SecretAccessKey,
          ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
        },
      });
      assumed.push(athena);
      return athena;
    },
    destroy: () => {
      for (const client of assumed) client.destroy();
      cloudFormation.destroy();
      s3.destroy();
      lambda?.destroy();
      redshiftData?.destroy();
      eventBridge?.destroy();
    },
  };
};
