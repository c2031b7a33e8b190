import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../services/warehouse-setup/handler.js';
import type { WarehouseSetupTarget } from '../../../services/warehouse-setup/set-up-warehouse.js';
import { awsWarehouseSetup } from '../../../infra/aws/functions/warehouse-setup.js';
import { InvalidRecordError, PermanentError } from '../../../shared/errors.js';
import { logger } from '../../../shared/logger.js';
import type { PipelineUserGrant, WarehouseSetup } from '../../../shared/ports/warehouse-setup.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../shared/http/local-http-server.js';
import { customResourceEventFactory } from '../../support/factories.js';
import { allLogLines, linesOf } from '../../support/log-lines.js';

const properties = {
  WorkgroupName: 'chartflow-prod',
  Database: 'chartflow',
  AdminSecretArn:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chartflow-prod/warehouse-admin-AbCdEf',
  PipelineRole: 'chartflow-prod-warehouse',
  Schemas: ['stage', 'marts'],
  ServiceTimeout: '300',
};

/** The id the factory gives an Update or a Delete: the one a Create answered. */
const physicalId = 'chartflow-prod/chartflow/IAMR:chartflow-prod-warehouse';

const contextWith = (remainingMs: number) =>
  ({
    functionName: 'chartflow-prod-warehouseSetup',
    awsRequestId: 'test',
    logStreamName: '2026/12/04/[$LATEST]abc123',
    getRemainingTimeInMillis: () => remainingMs,
  }) as unknown as Context;

/** A set-up that records what it was asked and answers as told. */
const recordingSetup = (
  answer: (grant: PipelineUserGrant) => Promise<{ user: string; created: boolean }>,
) => {
  const targets: WarehouseSetupTarget[] = [];
  const grants: PipelineUserGrant[] = [];
  return {
    targets,
    grants,
    deps: {
      warehouseSetup: async (target: WarehouseSetupTarget): Promise<WarehouseSetup> => {
        targets.push(target);
        return {
          preparePipelineUser: (grant) => {
            grants.push(grant);
            return answer(grant);
          },
        };
      },
      respond: { retries: 2, minTimeoutMs: 10 },
    },
  };
};

describe('Function: warehouseSetup', () => {
  let cloudFormation: LocalHttpServer;
  let answers: number[];

  beforeEach(async () => {
    answers = [];
    // CloudFormation's pre-signed ResponseURL: answers 200 unless told otherwise.
    cloudFormation = await startLocalHttpServer(() => ({ status: answers.shift() ?? 200, body: '' }));
  });
  afterEach(async () => {
    await cloudFormation.close();
  });

  const responseUrl = () =>
    `${cloudFormation.url}/cloudformation-custom-resource-response-euwest1/answer?X-Amz-Signature=secret`;
  const answered = () => cloudFormation.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);

  it('prepares the user through the Data API as the admin, and answers SUCCESS with its name', async () => {
    const redshift = mockClient(RedshiftDataClient);
    try {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
      redshift.on(GetStatementResultCommand).resolves({
        ColumnMetadata: [{ name: 'usename', typeName: 'name' }],
        Records: [[{ stringValue: 'IAMR:chartflow-prod-warehouse' }]],
      });
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
      redshift
        .on(DescribeStatementCommand, { Id: 'q1' })
        .resolves({ Id: 'q1', Status: 'FINISHED', HasResultSet: true });
      redshift.on(DescribeStatementCommand, { Id: 'b1' }).resolves({
        Id: 'b1',
        Status: 'FINISHED',
        SubStatements: Array.from({ length: 5 }, (_, i) => ({ Id: `b1:${i + 1}`, Status: 'FINISHED' })),
      });
      const handler = makeHandler({
        warehouseSetup: async (target) => awsWarehouseSetup(target, { region: 'eu-west-1' }),
      });
      const event = customResourceEventFactory({ responseUrl: responseUrl(), properties });
      await handler(event, contextWith(300_000));

      expect(cloudFormation.received).toHaveLength(1);
      const [put] = cloudFormation.received;
      expect(put!.method).toBe('PUT');
      expect(put!.url).toContain('X-Amz-Signature=secret');
      // Signed for no content type: none is sent.
      expect(put!.headers['content-type'] ?? '').toBe('');
      expect(answered()).toEqual([
        {
          Status: 'SUCCESS',
          PhysicalResourceId: 'chartflow-prod/chartflow/IAMR:chartflow-prod-warehouse',
          StackId: event.StackId,
          RequestId: event.RequestId,
          LogicalResourceId: 'WarehouseSetup',
          Data: { User: 'IAMR:chartflow-prod-warehouse' },
        },
      ]);
      const batch = redshift.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input;
      expect(batch.SecretArn).toBe(properties.AdminSecretArn);
      expect(batch.Sqls).toContain(
        'create schema if not exists "marts" authorization "IAMR:chartflow-prod-warehouse"',
      );
    } finally {
      redshift.restore();
    }
  });

  it('passes the properties through on Update, and keeps the id while nothing it names changed', async () => {
    const setup = recordingSetup(async () => ({ user: 'IAMR:chartflow-prod-warehouse', created: false }));
    const event = customResourceEventFactory({
      requestType: 'Update',
      responseUrl: responseUrl(),
      properties,
    });
    await makeHandler(setup.deps)(event, contextWith(300_000));
    expect(setup.targets).toEqual([
      { workgroupName: 'chartflow-prod', database: 'chartflow', adminSecretArn: properties.AdminSecretArn },
    ]);
    expect(setup.grants).toEqual([{ pipelineRole: 'chartflow-prod-warehouse', schemas: ['stage', 'marts'] }]);
    expect(answered()[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
  });

  it('answers Delete with SUCCESS and leaves the warehouse alone', async () => {
    const setup = recordingSetup(() => Promise.reject(new Error('must not be called')));
    const event = customResourceEventFactory({
      requestType: 'Delete',
      responseUrl: responseUrl(),
      properties,
    });
    await makeHandler(setup.deps)(event, contextWith(300_000));
    expect(setup.targets).toEqual([]);
    expect(answered()).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: physicalId }),
    ]);
  });

  it('answers FAILED with the reason and where the log is when the set-up fails, so the deploy rolls back at once', async () => {
    const setup = recordingSetup(() =>
      Promise.reject(
        new PermanentError('grants of the database user IAMR:x failed at create schema stage: denied'),
      ),
    );
    const event = customResourceEventFactory({ responseUrl: responseUrl(), properties });
    await makeHandler(setup.deps)(event, contextWith(300_000));
    expect(answered()).toEqual([
      {
        Status: 'FAILED',
        Reason:
          'grants of the database user IAMR:x failed at create schema stage: denied (log stream 2026/12/04/[$LATEST]abc123)',
        PhysicalResourceId: 'WarehouseSetup-not-created',
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: 'WarehouseSetup',
      },
    ]);
  });

  it('answers FAILED naming the property when the template gives the resource a bad one', async () => {
    const setup = recordingSetup(() => Promise.reject(new Error('must not be called')));
    const { Schemas: _schemas, ...withoutSchemas } = properties;
    await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties: withoutSchemas }),
      contextWith(300_000),
    );
    expect(answered()[0]).toMatchObject({ Status: 'FAILED' });
    expect(answered()[0]!.Reason).toMatch(
      /^WarehouseSetup properties: ✖ Invalid input: expected array, received undefined → at Schemas /,
    );
    expect(setup.targets).toEqual([]);
  });

  it('answers FAILED before the function times out when the set-up hangs', async () => {
    const setup = recordingSetup(() => new Promise(() => undefined));
    const started = Date.now();
    // 16 s left: 15 s are kept for the answer, so the set-up gets 1 s.
    await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties }),
      contextWith(16_000),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answered()[0]).toMatchObject({ Status: 'FAILED' });
    expect(answered()[0]!.Reason).toMatch(/^the warehouse set-up did not finish within 1 s/);
  });

  it('answers once, FAILED, when the set-up finishes after the early timeout', async () => {
    let finished = false;
    const setup = recordingSetup(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      finished = true;
      return { user: 'IAMR:late', created: true };
    });
    const response = await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties }),
      contextWith(16_000),
    );
    expect(response).toMatchObject({ Status: 'FAILED' });
    await expect.poll(() => finished, { timeout: 3_000 }).toBe(true);
    // Time for a second answer, were one sent.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered().map((a) => a.Status)).toEqual(['FAILED']);
  });

  it('keeps a long reason within what CloudFormation accepts', async () => {
    const setup = recordingSetup(() => Promise.reject(new Error('x'.repeat(2_000))));
    await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties }),
      contextWith(300_000),
    );
    expect(String(answered()[0]!.Reason).length).toBeLessThanOrEqual(1_000);
    expect(Buffer.byteLength(cloudFormation.received[0]!.body)).toBeLessThan(4_096);
  });

  it('sends the answer again when the URL answers 5xx, and gives up on a 4xx', async () => {
    const setup = recordingSetup(async () => ({ user: 'IAMR:u', created: true }));
    answers = [503, 200];
    await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties }),
      contextWith(300_000),
    );
    expect(answered().map((a) => a.Status)).toEqual(['SUCCESS', 'SUCCESS']);

    answers = [403];
    const error = await makeHandler(setup.deps)(
      customResourceEventFactory({ responseUrl: responseUrl(), properties }),
      contextWith(300_000),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    // The URL's signature is never in a message.
    expect((error as Error).message).toMatch(
      /^answering CloudFormation at http:\/\/127\.0\.0\.1:\d+\/cloudformation-custom-resource-response-euwest1\/answer: HTTP 403/,
    );
    expect((error as Error).message).not.toContain('secret');
  });

  it('fails the invocation when the event is no custom resource request: there is nothing to answer', async () => {
    const setup = recordingSetup(async () => ({ user: 'IAMR:u', created: true }));
    await expect(makeHandler(setup.deps)({ Records: [] }, contextWith(300_000))).rejects.toThrow(
      InvalidRecordError,
    );
    expect(cloudFormation.received).toEqual([]);
  });

  it.each([
    ['an Update without the id it answered', { PhysicalResourceId: undefined }, /→ at PhysicalResourceId/],
    ['a ResponseURL that is not HTTP', { ResponseURL: 'file:///etc/passwd' }, /→ at ResponseURL/],
    ['no ServiceToken', { ServiceToken: undefined }, /→ at ServiceToken/],
  ])('fails the invocation, naming the field, for %s', async (_, change, field) => {
    const setup = recordingSetup(async () => ({ user: 'IAMR:u', created: true }));
    const event = {
      ...customResourceEventFactory({ requestType: 'Update', responseUrl: responseUrl(), properties }),
      ...change,
    };
    const error = await makeHandler(setup.deps)(event, contextWith(300_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect((error as Error).message).toMatch(/^CloudFormation custom resource request: ✖ /);
    expect((error as Error).message).toMatch(field);
    expect(setup.targets).toEqual([]);
    expect(cloudFormation.received).toEqual([]);
  });

  describe('its log', () => {
    it('says what was set up and answered, each line keyed by the request, and keeps no key after', async () => {
      const setup = recordingSetup(async () => ({ user: 'IAMR:chartflow-prod-warehouse', created: true }));
      const lines = await allLogLines(async () => {
        await makeHandler(setup.deps)(
          customResourceEventFactory({ responseUrl: responseUrl(), properties }),
          contextWith(300_000),
        );
        logger.info('after the invocation');
      });
      expect(linesOf(lines, 'warehouse set up')).toEqual([
        expect.objectContaining({
          requestType: 'Create',
          logicalResourceId: 'WarehouseSetup',
          workgroup: 'chartflow-prod',
          database: 'chartflow',
          user: 'IAMR:chartflow-prod-warehouse',
          created: true,
          schemas: ['stage', 'marts'],
        }),
      ]);
      expect(linesOf(lines, 'custom resource answered')).toEqual([
        expect.objectContaining({
          requestType: 'Create',
          logicalResourceId: 'WarehouseSetup',
          status: 'SUCCESS',
        }),
      ]);
      expect(linesOf(lines, 'warehouse set-up failed')).toEqual([]);
      expect(linesOf(lines, 'after the invocation')).toEqual([
        expect.not.objectContaining({ requestType: expect.anything() }),
      ]);
      expect(linesOf(lines, 'after the invocation')[0]).not.toHaveProperty('logicalResourceId');
    });

    it('says a Delete had nothing to undo, naming the resource', async () => {
      const setup = recordingSetup(() => Promise.reject(new Error('must not be called')));
      const lines = await allLogLines(() =>
        makeHandler(setup.deps)(
          customResourceEventFactory({ requestType: 'Delete', responseUrl: responseUrl(), properties }),
          contextWith(300_000),
        ),
      );
      expect(linesOf(lines, 'warehouse set-up deleted: nothing to undo')).toEqual([
        expect.objectContaining({ requestType: 'Delete', physicalResourceId: physicalId }),
      ]);
    });

    it('logs why the set-up failed, and the reason it answered', async () => {
      const setup = recordingSetup(() => Promise.reject(new PermanentError('create schema stage: denied')));
      const lines = await allLogLines(() =>
        makeHandler(setup.deps)(
          customResourceEventFactory({ responseUrl: responseUrl(), properties }),
          contextWith(300_000),
        ),
      );
      expect(linesOf(lines, 'warehouse set-up failed')).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          error: expect.objectContaining({ message: 'create schema stage: denied' }),
        }),
      ]);
      expect(linesOf(lines, 'custom resource answered')).toEqual([
        expect.objectContaining({
          status: 'FAILED',
          reason: `create schema stage: denied (log stream 2026/12/04/[$LATEST]abc123)`,
        }),
      ]);
    });

    it('logs a set-up that ran out of time as failed, saying how long it had', async () => {
      const setup = recordingSetup(() => new Promise(() => undefined));
      const lines = await allLogLines(() =>
        makeHandler(setup.deps)(
          customResourceEventFactory({ responseUrl: responseUrl(), properties }),
          contextWith(16_000),
        ),
      );
      expect(linesOf(lines, 'warehouse set-up failed')).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          error: expect.objectContaining({ message: 'the warehouse set-up did not finish within 1 s' }),
        }),
      ]);
      expect(linesOf(lines, 'custom resource answered')).toEqual([
        expect.objectContaining({ status: 'FAILED' }),
      ]);
    });

    it('does not call a set-up failed when it succeeded and only the answer was refused', async () => {
      const setup = recordingSetup(async () => ({ user: 'IAMR:u', created: false }));
      answers = [403];
      const lines = await allLogLines(async () => {
        await expect(
          makeHandler(setup.deps)(
            customResourceEventFactory({ responseUrl: responseUrl(), properties }),
            contextWith(300_000),
          ),
        ).rejects.toThrow(PermanentError);
      });
      expect(linesOf(lines, 'warehouse set up')).toHaveLength(1);
      expect(linesOf(lines, 'warehouse set-up failed')).toEqual([]);
    });
  });
});
