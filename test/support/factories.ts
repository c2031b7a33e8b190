import { createHash, randomUUID } from 'node:crypto';
import type {
  CloudFormationCustomResourceEvent,
  S3Event,
  S3EventRecord,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { encodeS3Key } from '../../shared/events/s3-keys.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** One object of an {@link s3EventFactory} event; `key` is the plain key, encoded as S3 encodes it. */
export interface S3ObjectSpec {
  readonly key: string;
  readonly size?: number;
  readonly eTag?: string;
  readonly bucket?: string;
  readonly region?: string;
  readonly eventName?: string;
  readonly eventTime?: string;
  readonly sequencer?: string;
}

/**
 * An S3 event as a bucket notification delivers it to Lambda, one record per object, written out
 * after the example in the S3 documentation (not through the embedded store's builder, so that
 * tests can hold that builder against it).
 */
export const s3EventFactory = (...objects: (string | S3ObjectSpec)[]): S3Event => ({
  Records: objects.map((object): S3EventRecord => {
    const spec = typeof object === 'string' ? { key: object } : object;
    const bucket = spec.bucket ?? 'chartflow-test';
    return {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: spec.region ?? 'us-east-1',
      eventTime: spec.eventTime ?? '2025-01-02T03:04:05.678Z',
      eventName: spec.eventName ?? 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
      requestParameters: { sourceIPAddress: '203.0.113.10' },
      responseElements: {
        'x-amz-request-id': 'C3D13FE58DE4C810',
        'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'object-created',
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: 'A3NL1KOZZKEXAMPLE' },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          key: encodeS3Key(spec.key),
          size: spec.size ?? 1024,
          eTag: spec.eTag ?? md5(spec.key),
          sequencer: spec.sequencer ?? '0055AED6DCD90281E5',
        },
      },
    };
  }),
});

/** One message of an {@link sqsEventFactory} event: a body, or a body with the fields to pin. */
export interface SqsRecordSpec {
  readonly body: string;
  readonly messageId?: string;
  readonly receiveCount?: number;
  readonly queueArn?: string;
}

/** An SQS event as Lambda's event source mapping delivers it, one record per body. */
export const sqsEventFactory = (...messages: (string | SqsRecordSpec)[]): SQSEvent => ({
  Records: messages.map((message): SQSRecord => {
    const spec = typeof message === 'string' ? { body: message } : message;
    const arn = spec.queueArn ?? 'arn:aws:sqs:us-east-1:123456789012:chartflow-test';
    return {
      messageId: spec.messageId ?? randomUUID(),
      receiptHandle: `AQEB${randomUUID().replace(/-/g, '')}`,
      body: spec.body,
      attributes: {
        ApproximateReceiveCount: String(spec.receiveCount ?? 1),
        SentTimestamp: '1735787045678',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1735787045690',
      },
      messageAttributes: {},
      md5OfBody: md5(spec.body),
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: arn.split(':')[3] ?? 'us-east-1',
    };
  }),
});

/** What a {@link customResourceEventFactory} event may pin. */
export interface CustomResourceSpec {
  readonly requestType?: 'Create' | 'Update' | 'Delete';
  readonly responseUrl: string;
  readonly properties?: Record<string, unknown>;
  readonly physicalResourceId?: string;
  readonly logicalResourceId?: string;
  readonly resourceType?: string;
}

/**
 * A CloudFormation custom resource request as CloudFormation invokes the resource's function with
 * it, written out after the example in the CloudFormation documentation: the properties as the
 * template gives them, ServiceToken included.
 */
export const customResourceEventFactory = (spec: CustomResourceSpec): CloudFormationCustomResourceEvent => {
  const requestType = spec.requestType ?? 'Create';
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:chartflow-prod-warehouseSetup',
    ResponseURL: spec.responseUrl,
    StackId:
      'arn:aws:cloudformation:eu-west-1:123456789012:stack/chartflow-prod/5b918d10-cd98-11ea-90d5-0a9cd3354c10',
    RequestId: randomUUID(),
    LogicalResourceId: spec.logicalResourceId ?? 'WarehouseSetup',
    ResourceType: spec.resourceType ?? 'Custom::WarehouseSetup',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:chartflow-prod-warehouseSetup',
      ...spec.properties,
    },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  const physicalResourceId =
    spec.physicalResourceId ?? 'chartflow-prod/chartflow/IAMR:chartflow-prod-warehouse';
  if (requestType === 'Update') {
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: physicalResourceId,
      OldResourceProperties: common.ResourceProperties,
    };
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: physicalResourceId };
};

/** The shape of a value: its keys, recursively, with leaves replaced by their type. */
export const shapeOf = (value: unknown): unknown =>
  value !== null && typeof value === 'object'
    ? Object.fromEntries(
        Object.entries(value)
          .map(([k, v]) => [k, shapeOf(v)])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      )
    : typeof value;
