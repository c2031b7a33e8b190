import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Mutex } from 'async-mutex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import { DuckDbWarehouse } from '../../../../infra/adapters/embedded/duckdb-warehouse.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { main } from '../../../../infra/local/cli/main.js';
import { localContext } from '../../../../infra/local/handler-context.js';
import { awsReconcilerSettings } from '../../../../infra/reconciler-settings.js';
import { makeHandler as makeReconciler } from '../../../../services/reconciler/handler.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { PermanentError } from '../../../../shared/errors.js';
import type { BusEvent } from '../../../../shared/ports/event-bus.js';
import type { FunctionInvoker } from '../../../../shared/ports/function-invoker.js';
import type { ObjectInfo } from '../../../../shared/ports/object-store.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';
import { day, landDay, manifestKey, run1 } from '../../../support/landed-days.js';

const available = motoAvailable();
// 20 minutes ahead of the lake, so that the landed objects are past the grace period.
const clock = { now: () => new Date(Date.now() + 20 * 60_000), sleep: async () => undefined };

/**
 * `chartflow reconcile --target aws`: the stack's reconciler function named by its output, invoked
 * with the window, its report printed. The function runs in-process as Lambda would run it (JSON
 * in, JSON out), on the lake in moto and a DuckDB stage; what it hands the stage loader and puts on
 * the bus is kept (Lambda cannot run here).
 */
describe.skipIf(!available)('Function: chartflow reconcile --target aws (moto)', () => {
  let moto: Moto;
  let home: string;
  let warehouse: DuckDbWarehouse;
  let out: string[];
  let notes: string[];
  const invocations: { functionName: string; payload: unknown }[] = [];
  const delivered: ObjectInfo[] = [];
  const published: BusEvent[] = [];

  const inProcessLambda = (store: S3ObjectStore): FunctionInvoker => ({
    invoke: async (functionName, payload) => {
      invocations.push({ functionName, payload });
      if (functionName !== 'chartflow-dev-reconciler')
        throw new PermanentError(`no function ${functionName}`);
      const handler = makeReconciler({
        store,
        warehouse,
        bus: { publish: async (event) => void published.push(event) },
        clock,
        loader: { objectCreated: async (object) => void delivered.push(object) },
        charts: ['global'],
        settings: awsReconcilerSettings(),
      });
      try {
        return JSON.parse(
          JSON.stringify(await handler(JSON.parse(JSON.stringify(payload)), localContext(functionName))),
        );
      } catch (error) {
        throw new PermanentError(
          `Lambda function ${functionName} failed (Unhandled): ${(error as Error).name}: ${(error as Error).message}`,
        );
      }
    },
  });

  let context: () => CliContext;
  const chartflow = (...args: string[]) => main(['node', 'chartflow', ...args], context());

  beforeAll(async () => {
    moto = await startMoto();
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-reconcile-aws-'));
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: home,
      mutex: new Mutex(),
    });
    const s3 = new S3Client(moto.clientConfig);
    const bucket = 'chartflow-dev-lake';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = new S3ObjectStore({ client: s3, bucket });
    await landDay(store, run1, 'verified');
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-dev',
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
          Outputs: { ReconcilerFunctionName: { Value: 'chartflow-dev-reconciler' } },
        }),
      }),
    );
    cloudFormation.destroy();
    context = () => ({
      config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent/chartflow-home' }),
      clock,
      processEnv: {},
      out: (t) => out.push(t),
      note: (t) => notes.push(t),
      aws: { clientSettings: moto.clientConfig, functionInvoker: () => inProcessLambda(store) },
    });
  });
  afterAll(async () => {
    await warehouse?.close();
    if (home) await rm(home, { recursive: true, force: true });
    await moto?.stop();
  });
  beforeEach(() => {
    out = [];
    notes = [];
  });

  const window = ['--from', day.chartDate, '--to', day.chartDate];
  const aws = ['--target', 'aws', '--region', 'us-east-1'];

  it('invokes the function named by ReconcilerFunctionName with the window, prints its report; --dry-run exits 1', async () => {
    const code = await chartflow('reconcile', ...window, '--chart', 'global', '--dry-run', ...aws);

    expect(code, notes.join('\n')).toBe(1);
    expect(invocations.at(-1)).toEqual({
      functionName: 'chartflow-dev-reconciler',
      payload: { from: day.chartDate, to: day.chartDate, chartId: 'global', dryRun: true },
    });
    expect(notes).toContain('chartflow: reconciling with chartflow-dev-reconciler in us-east-1…');
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe(
      `reconcile ${day.chartDate} to ${day.chartDate}, chart global: found 1, repaired nothing (--dry-run)`,
    );
    expect(lines[1]).toMatch(new RegExp(`^ {2}found {2}unloaded: global ${day.chartDate} run ${run1}: `));
    expect(delivered).toEqual([]);
  });

  it('repairs there, says what the function did, and exits 0', async () => {
    const code = await chartflow('reconcile', ...window, ...aws);

    expect(code, notes.join('\n')).toBe(0);
    expect(out.join('\n')).toContain(
      `  did    redelivered_object_created: global ${day.chartDate} run ${run1}: handed the stage loader an ObjectCreated event for ${manifestKey}`,
    );
    expect(delivered.map((o) => o.key)).toEqual([manifestKey]);
  });

  it('refuses --wait with --target aws, exit 2, before asking AWS anything', async () => {
    const before = invocations.length;
    expect(await chartflow('reconcile', '--wait', '5', ...aws)).toBe(2);
    expect(notes.at(-1)).toMatch(/^chartflow: --wait is for this machine/);
    expect(invocations).toHaveLength(before);
  });
});
