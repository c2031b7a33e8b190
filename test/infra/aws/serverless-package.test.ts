import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseStatementTimeoutMs } from '../../../infra/aws/functions/warehouse.js';
import { warehouseSetupStatementTimeoutMs } from '../../../infra/aws/functions/warehouse-setup.js';
import { dbtContainerName } from '../../../shared/events/ecs-task-event.js';
import { stageSchema } from '../../../shared/records/stage-tables.js';
import { lockTtlMs } from '../../../shared/lake/transform-lock.js';
import { busyRetrySeconds } from '../../../services/transform/handler.js';
import {
  packageServerless,
  type CompiledTemplate,
  type TemplateResource,
} from '../../support/serverless-template.js';
import { templateFacts, topologyFacts } from '../../support/template-topology.js';
import { asyncInvokedFunctions, topology } from '../../../infra/topology.js';
import { lambdaZipBudgetBytes } from '../../../bench/budgets.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..', '..');
const cfnLint = path.join(root, '.venv-moto', 'bin', 'cfn-lint');
const venvPython = path.join(root, '.venv-moto', 'bin', 'python');

type Json = Record<string, unknown>;
type Resource = TemplateResource;
type Template = CompiledTemplate;

/** The functions of serverless.yml: name → its composition root, infra/aws/functions/<root>.ts. */
const functions = {
  chartFetch: 'chart-fetch',
  trackAttributes: 'track-attributes',
  stageLoader: 'stage-loader',
  transform: 'transform',
  stageCleanup: 'stage-cleanup',
  replay: 'replay',
  warehouseSetup: 'warehouse-setup',
  reconciler: 'reconciler',
} as const;
const logicalId = (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`;
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

/** The only actions that may name `"*"`, because AWS allows no narrower resource for them. */
const allowedOnlyWithStar = new Set([
  'ecr:GetAuthorizationToken',
  'redshift-data:DescribeStatement',
  'redshift-data:GetStatementResult',
  'redshift-data:CancelStatement',
]);

const cfnLintAvailable = existsSync(cfnLint);
if (!cfnLintAvailable) {
  console.log(`cfn-lint is not installed at ${cfnLint} (run: bash infra/local/ensure-moto-venv.sh)`);
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe('serverless package (osls, offline, no AWS account)', () => {
  let dir: string;
  let template: Template;
  let stackParameters: Record<string, string>;
  const resourcesOf = (type: string) =>
    Object.entries(template.Resources).filter(([, r]) => r.Type === type) as [string, Resource][];

  beforeAll(async () => {
    ({ dir, template, stackParameters } = await packageServerless('test'));
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packages one ESM bundle per function, with the SDK inside and no source map, each zip within its 250 KB budget', async () => {
    const zips = (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort();
    expect(zips).toEqual(
      Object.keys(functions)
        .map((f) => `${f}.zip`)
        .sort(),
    );
    const sizes: Record<string, number> = {};
    for (const zip of zips) sizes[zip] = (await stat(path.join(dir, zip))).size;
    console.log(
      `bundles (KB): ${Object.entries(sizes)
        .map(([zip, size]) => `${zip} ${(size / 1000).toFixed(1)}`)
        .join(', ')}`,
    );
    const overBudget = Object.entries(sizes).filter(([, size]) => size > lambdaZipBudgetBytes);
    expect(overBudget, `zips over ${lambdaZipBudgetBytes / 1000} KB`).toEqual([]);
    for (const [name, root] of Object.entries(functions)) {
      const { stdout } = await run('unzip', ['-Z1', path.join(dir, `${name}.zip`)]);
      const files = stdout
        .trim()
        .split('\n')
        .filter((entry) => !entry.endsWith('/'));
      expect(files).toEqual([`infra/aws/functions/${root}.mjs`]);
    }
  });

  it('each bundle loads as ESM and, without its environment, fails naming the first variable (the set-up: the request)', async () => {
    const unpacked = path.join(dir, 'unpacked');
    const script = path.join(dir, 'smoke.mjs');
    for (const [name, folder] of Object.entries(functions)) {
      await mkdir(path.join(unpacked, name), { recursive: true });
      await run('unzip', ['-q', '-o', path.join(dir, `${name}.zip`), '-d', path.join(unpacked, name)]);
      expect(existsSync(path.join(unpacked, name, 'infra', 'aws', 'functions', `${folder}.mjs`))).toBe(true);
    }
    await writeFile(
      script,
      `const results = {};
for (const [name, folder] of ${JSON.stringify(Object.entries(functions))}) {
  const m = await import(${JSON.stringify(unpacked)} + '/' + name + '/infra/aws/functions/' + folder + '.mjs');
  try { await m.handler({ Records: [] }, { functionName: name, awsRequestId: 'smoke' }); results[name] = 'no error'; }
  catch (e) { results[name] = e.name + ': ' + e.message; }
}
console.log(JSON.stringify(results));`,
    );
    const { stdout } = await run(process.execPath, [script], { env: { PATH: process.env.PATH } });
    const results = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
    for (const name of Object.keys(functions)) {
      // The set-up reads no environment: what it needs comes in CloudFormation's request.
      if (name === 'warehouseSetup') {
        expect(results[name]).toMatch(
          /^InvalidRecordError: CloudFormation custom resource request: ✖ .* → at RequestType$/,
        );
      } else {
        expect(results[name]).toBe('ConfigError: CHARTFLOW_BUCKET is required.');
      }
    }
  });

  it('bundles into each function only the SDK clients its composition root builds', async () => {
    // Each root builds only its own clients (infra/aws/functions/), so a bundle holds no other
    // service's SDK. The source map lists every module esbuild kept.
    const clients: Record<keyof typeof functions, string[]> = {
      chartFetch: ['s3', 'secrets-manager', 'sqs'],
      // No SQS client: track-attributes hands nothing back to its queue (a provider failure is a
      // missing attribute, recorded at once), and the event source mapping deletes for it.
      trackAttributes: ['s3', 'secrets-manager'],
      stageLoader: ['eventbridge', 'redshift-data', 's3'],
      transform: ['ecs', 'redshift-data', 's3', 'sqs'],
      stageCleanup: ['redshift-data', 's3'],
      replay: ['s3'],
      warehouseSetup: ['redshift-data'],
      // Events put again, the stage loader invoked with a lost ObjectCreated, the stage's rows.
      reconciler: ['eventbridge', 'lambda', 'redshift-data', 's3'],
    };
    // The bundle is minified, but each client's default configuration keeps its service id as a
    // string: `serviceId: config?.serviceId ?? "S3"`.
    const serviceIds: Record<string, string> = {
      S3: 's3',
      SQS: 'sqs',
      'Secrets Manager': 'secrets-manager',
      EventBridge: 'eventbridge',
      'Redshift Data': 'redshift-data',
      ECS: 'ecs',
      Lambda: 'lambda',
    };
    const unpacked = path.join(dir, 'unpacked-clients');
    for (const [name, root] of Object.entries(functions) as [keyof typeof functions, string][]) {
      await mkdir(path.join(unpacked, name), { recursive: true });
      await run('unzip', ['-q', '-o', path.join(dir, `${name}.zip`), '-d', path.join(unpacked, name)]);
      const bundle = await readFile(
        path.join(unpacked, name, 'infra', 'aws', 'functions', `${root}.mjs`),
        'utf8',
      );
      const bundled = [
        ...new Set(
          [...bundle.matchAll(/serviceId:[\w$]+\?\.serviceId\?\?"([^"]+)"/g)].flatMap(
            ([, id]) => serviceIds[id!] ?? [],
          ),
        ),
      ].sort();
      expect({ name, bundled }).toEqual({ name, bundled: clients[name] });
    }
  });

  it('runs every function on nodejs22.x and arm64, from its composition root, with its own role', () => {
    const lambdas = resourcesOf('AWS::Lambda::Function');
    expect(lambdas.map(([id]) => id).sort()).toEqual(Object.keys(functions).map(logicalId).sort());
    for (const [name, folder] of Object.entries(functions)) {
      const fn = template.Resources[logicalId(name)]!.Properties;
      expect(fn.Runtime).toBe('nodejs22.x');
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Handler).toBe(`infra/aws/functions/${folder}.handler`);
      expect(fn.FunctionName).toBe(`chartflow-test-${name}`);
      expect(fn.Role).toHaveProperty('Fn::GetAtt');
    }
    // Every function names a role of infra/iam.yml: serverless's shared role is not created.
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('gives every function the environment shared/config/aws-config.ts reads', () => {
    const names = [
      'CHARTFLOW_BUCKET',
      'CHARTFLOW_TRACK_QUEUE_URL',
      'CHARTFLOW_TRANSFORM_QUEUE_URL',
      'CHARTFLOW_EVENT_BUS',
      'CHARTFLOW_CHARTS',
      'CHARTFLOW_SPOTIFY_SECRET_ID',
      'CHARTFLOW_SPOTIFY',
      'CHARTFLOW_RECCOBEATS',
      'CHARTFLOW_MAX_RECEIVE_COUNT',
      'REDSHIFT_WORKGROUP',
      'REDSHIFT_DATABASE',
      'REDSHIFT_COPY_ROLE_ARN',
      'CHARTFLOW_ECS_CLUSTER',
      'CHARTFLOW_DBT_TASK_DEFINITION',
      'CHARTFLOW_SUBNETS',
      'CHARTFLOW_SECURITY_GROUPS',
      'SPOTIFY_RATE_LIMIT',
      'RECCOBEATS_RATE_LIMIT',
    ];
    for (const name of Object.keys(functions)) {
      const env = template.Resources[logicalId(name)]!.Properties.Environment.Variables as Json;
      expect(Object.keys(env)).toEqual(expect.arrayContaining(names));
      // The bucket's name is spelled out, not referred to: a reference would be a cycle.
      expect(env.CHARTFLOW_BUCKET).toEqual({
        'Fn::Sub': '${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}',
      });
      // track-attributes dead-letters on the delivery the queue's redrive counts as its last.
      expect(String(env.CHARTFLOW_MAX_RECEIVE_COUNT)).toBe(
        String(template.Parameters.TrackMaxReceiveCount!.Default),
      );
    }
  });

  it('gives up on a warehouse statement (and cancels it) before any function using the warehouse times out', () => {
    const users = Object.keys(functions)
      .map((name) => template.Resources[logicalId(name)]!.Properties)
      .filter((fn) => JSON.stringify(fn.Role) === JSON.stringify(getAtt('WarehouseRole')));
    expect(users).toHaveLength(4); // stageLoader, transform, stageCleanup, reconciler
    for (const fn of users) {
      // A margin for the cancel and the error's way out.
      expect((fn.Timeout as number) * 1000, String(fn.FunctionName)).toBeGreaterThan(
        warehouseStatementTimeoutMs + 10_000,
      );
    }
  });

  it('compiles exactly the topology of infra/topology.ts, both ways: every trigger and filter, batch, window, visibility timeout, redrive, function timeout, concurrency and async retry', () => {
    // Sorted facts on both sides: one the template has and the module lacks, or the other way
    // round, shows in the diff.
    expect(templateFacts(template, stackParameters)).toEqual(topologyFacts());
  });

  it('tells a trigger the module lacks, and a module entry the template lacks', () => {
    const withExtra: Template = {
      ...template,
      Resources: {
        ...template.Resources,
        ReplayEventSourceMapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            EventSourceArn: getAtt('TrackQueue'),
            FunctionName: getAtt('ReplayLambdaFunction'),
            BatchSize: 10,
          },
        },
      },
    };
    expect(templateFacts(withExtra, stackParameters)).not.toEqual(topologyFacts());
    const { TransformRequestRule: _dropped, ...withoutRule } = template.Resources;
    expect(templateFacts({ ...template, Resources: withoutRule }, stackParameters)).not.toEqual(
      topologyFacts(),
    );
    // A deploy passing another redrive count than infra/queues.yml's default shows too.
    expect(templateFacts(template, { ...stackParameters, TransformMaxReceiveCount: '20' })).not.toEqual(
      topologyFacts(),
    );
  });

  it('runs chart-fetch on a daily schedule', () => {
    const rules = resourcesOf('AWS::Events::Rule').filter(
      ([, r]) =>
        r.Properties.ScheduleExpression &&
        JSON.stringify(r.Properties.Targets).includes('"ChartFetchLambdaFunction"'),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.ScheduleExpression).toEqual({ Ref: 'ChartSchedule' });
    expect(template.Parameters.ChartSchedule!.Default).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: getAtt('ChartFetchLambdaFunction') }),
    ]);
  });

  it('sends ObjectCreated under raw/ to stage-loader and inbox/charts/*.csv to chart-fetch', () => {
    const bucket = template.Resources.LakeBucket!;
    const configs = bucket.Properties.NotificationConfiguration.LambdaConfigurations as Json[];
    expect(configs).toEqual(
      expect.arrayContaining([
        {
          Event: 's3:ObjectCreated:*',
          Function: getAtt('StageLoaderLambdaFunction'),
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'raw/' }] } },
        },
        {
          Event: 's3:ObjectCreated:*',
          Function: getAtt('ChartFetchLambdaFunction'),
          Filter: {
            S3Key: {
              Rules: [
                { Name: 'prefix', Value: 'inbox/charts/' },
                { Name: 'suffix', Value: '.csv' },
              ],
            },
          },
        },
      ]),
    );
    expect(configs).toHaveLength(2);
    // S3 checks it may invoke them when the configuration is put: the permissions come first.
    expect(asArray(bucket.DependsOn).sort()).toEqual([
      'ChartFetchLakePermission',
      'StageLoaderLakePermission',
    ]);
    for (const [permission, fn] of [
      ['StageLoaderLakePermission', 'StageLoaderLambdaFunction'],
      ['ChartFetchLakePermission', 'ChartFetchLambdaFunction'],
    ] as const) {
      const p = template.Resources[permission]!.Properties;
      expect(p.FunctionName).toEqual(getAtt(fn));
      expect(p.Principal).toBe('s3.amazonaws.com');
      expect(p.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      expect(p.SourceArn).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:s3:::${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}',
      });
    }
  });

  it('feeds track-attributes from the track queue in batches, reporting failed items, with a DLQ', () => {
    const mapping = template.Resources.TrackAttributesEventSourceMappingSQSTrackQueue!.Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: getAtt('TrackQueue'),
      FunctionName: getAtt('TrackAttributesLambdaFunction'),
      BatchSize: 200,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const queue = template.Resources.TrackQueue!.Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt('TrackDeadLetterQueue'),
      maxReceiveCount: { Ref: 'TrackMaxReceiveCount' },
    });
    expect(template.Parameters.TrackMaxReceiveCount!.Default).toBe(3);
    // A batch never reappears while it is worked on: six times the function's timeout.
    const timeout = template.Resources.TrackAttributesLambdaFunction!.Properties.Timeout as number;
    expect(queue.VisibilityTimeout).toEqual({ Ref: 'TrackQueueVisibilitySeconds' });
    expect(template.Parameters.TrackQueueVisibilitySeconds!.Default).toBe(6 * timeout);
  });

  it('sends the completion events to transform through TransformQueue, one record at a time', () => {
    const rule = template.Resources.TransformRequestRule!.Properties;
    expect(rule.EventBusName).toEqual({ Ref: 'EventBus' });
    expect(rule.EventPattern).toEqual({
      source: ['chartflow'],
      'detail-type': ['Stage Loaded', 'Transform Requested'],
    });
    expect(rule.Targets).toMatchObject([{ Id: 'transform-queue', Arn: getAtt('TransformQueue') }]);
    expect(template.Resources.EventBus!.Properties.Name).toEqual({ Ref: 'AWS::StackName' });

    const policy = template.Resources.TransformQueuePolicy!.Properties.PolicyDocument.Statement as Json[];
    expect(policy).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt('TransformQueue'),
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt('TransformRequestRule') } },
      }),
    ]);
    const mapping = template.Resources.TransformEventSourceMappingSQSTransformQueue!.Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: getAtt('TransformQueue'),
      FunctionName: getAtt('TransformLambdaFunction'),
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queue = template.Resources.TransformQueue!.Properties;
    expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual(getAtt('TransformDeadLetterQueue'));
    expect(template.Parameters.TransformMaxReceiveCount!.Default).toBeGreaterThanOrEqual(10);
    const timeout = template.Resources.TransformLambdaFunction!.Properties.Timeout as number;
    expect(template.Parameters.TransformQueueVisibilitySeconds!.Default).toBe(6 * timeout);
  });

  it('stops a dbt build before its batch is presumed dead, and lets a load wait that long for its turn', async () => {
    const dockerfile = await readFile(path.join(root, 'dbt', 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(
      /^ENTRYPOINT (\[[\s\S]*?\])$/m.exec(dockerfile.replace(/\\\n\s*/g, ' '))![1]!,
    ) as string[];
    expect(entrypoint.slice(0, 3)).toEqual(['timeout', '--signal=INT', '--kill-after=60s']);
    expect(entrypoint[4]).toBe('dbt');
    const limitMs = Number(/^(\d+)m$/.exec(entrypoint[3]!)![1]) * 60_000 + 60_000;
    // A build ends (killed at the latest) before the lock it holds may be taken over.
    expect(limitMs).toBeLessThan(lockTtlMs);
    // A load waiting behind a live build is handed back every busyRetrySeconds; it reaches the DLQ
    // only after the lock's whole life.
    const receives = Number(template.Parameters.TransformMaxReceiveCount!.Default);
    expect(receives * busyRetrySeconds * 1000).toBeGreaterThan(lockTtlMs);
  });

  it("sends the stop of this cluster's dbt task to stage-cleanup", () => {
    const rules = resourcesOf('AWS::Events::Rule').filter(([, r]) =>
      (r.Properties.Targets as Json[]).some(
        (t) => JSON.stringify(t.Arn) === JSON.stringify(getAtt('StageCleanupLambdaFunction')),
      ),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventBusName).toBeUndefined(); // AWS service events reach the default bus
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [getAtt('DbtCluster')],
        lastStatus: ['STOPPED'],
        taskDefinitionArn: [
          {
            prefix: {
              'Fn::Sub':
                'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${AWS::StackName}-dbt:',
            },
          },
        ],
      },
    });
    expect(template.Resources.DbtTaskDefinition!.Properties.Family).toEqual({
      'Fn::Sub': '${AWS::StackName}-dbt',
    });
  });

  it('gives replay no event: the CLI invokes it', () => {
    const text = JSON.stringify(
      Object.entries(template.Resources).filter(
        ([id, r]) => id !== 'ReplayLambdaFunction' && r.Type !== 'AWS::Lambda::Version',
      ),
    );
    expect(text).not.toContain('"ReplayLambdaFunction"');
    expect(template.Outputs.ReplayFunctionName).toEqual(
      expect.objectContaining({ Value: { Ref: 'ReplayLambdaFunction' } }),
    );
  });

  it('names the resources of every IAM statement; "*" only where AWS allows nothing else', async () => {
    const statements: { where: string; statement: Json }[] = [];
    for (const [id, role] of resourcesOf('AWS::IAM::Role')) {
      for (const policy of (role.Properties.Policies ?? []) as Json[]) {
        for (const statement of (policy.PolicyDocument as Json).Statement as Json[]) {
          statements.push({ where: `${id}/${String(policy.PolicyName)}`, statement });
        }
      }
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
    expect(resourcesOf('AWS::IAM::Policy')).toEqual([]);
    expect(statements.length).toBeGreaterThan(20);
    const starred: string[] = [];
    for (const { where, statement } of statements) {
      expect(statement.NotResource, where).toBeUndefined();
      expect(statement.NotAction, where).toBeUndefined();
      const resources = asArray(statement.Resource as unknown);
      expect(resources.length, `${where}: a statement without resources`).toBeGreaterThan(0);
      const actions = asArray(statement.Action as string | string[]);
      for (const action of actions) expect(action, `${where}: a wildcard action`).not.toMatch(/\*/);
      if (resources.includes('*')) {
        expect(resources, where).toEqual(['*']);
        for (const action of actions) {
          expect(allowedOnlyWithStar.has(action), `${where}: ${action} on "*"`).toBe(true);
          starred.push(action);
        }
      }
    }
    expect(new Set(starred)).toEqual(allowedOnlyWithStar);

    // Each "*" is commented where it stands in infra/*.yml.
    for (const file of ['infra/iam.yml', 'infra/dbt.yml']) {
      const lines = (await readFile(path.join(root, file), 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (!/Resource: '\*'/.test(line)) return;
        const before = lines.slice(Math.max(0, index - 8), index).filter((l) => l.trim().startsWith('#'));
        expect(before.join('\n'), `${file}:${index + 1}`).toMatch(/"\*"/);
      });
    }

    const warehouse = statements.filter((s) => s.where.startsWith('WarehouseRole/')).map((s) => s.statement);
    const find = (action: string) => warehouse.find((s) => asArray(s.Action as string[]).includes(action));
    expect(find('iam:PassRole')).toMatchObject({
      Resource: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-warehouse' },
        getAtt('DbtExecutionRole'),
      ],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(find('ecs:RunTask')).toMatchObject({
      Condition: { ArnEquals: { 'ecs:cluster': getAtt('DbtCluster') } },
    });
    expect(find('redshift-serverless:GetCredentials')!.Resource).toEqual(
      getAtt('WarehouseWorkgroup', 'Workgroup.WorkgroupArn'),
    );
    expect(find('redshift-data:BatchExecuteStatement')!.Resource).toEqual(
      getAtt('WarehouseWorkgroup', 'Workgroup.WorkgroupArn'),
    );
    // The statement-level Data API actions only on this role's own statements.
    expect(find('redshift-data:DescribeStatement')!.Condition).toEqual({
      StringEquals: {
        'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', ['$', '{aws:userid}']] },
      },
    });
    // Deletes only under control/ (claims, the lock, the backlog): raw data is never deleted.
    for (const { where, statement } of statements) {
      if (asArray(statement.Action as string[]).includes('s3:DeleteObject')) {
        expect(JSON.stringify(statement.Resource), where).toMatch(/\/control\/([a-z-]+\/)?\*"/);
      }
    }
    // Redshift's COPY role reads tables/, raw/ (days written before tables/) and the COPY manifests, nothing else.
    const copy = template.Resources.RedshiftCopyRole!.Properties.Policies[0].PolicyDocument
      .Statement as Json[];
    const bucketArn = 'arn:${AWS::Partition}:s3:::${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}';
    expect(copy.find((s) => s.Action === 's3:GetObject')!.Resource).toEqual([
      { 'Fn::Sub': `${bucketArn}/tables/*` },
      { 'Fn::Sub': `${bucketArn}/raw/*` },
      { 'Fn::Sub': `${bucketArn}/control/copy-manifests/*` }, // shared/lake/keys.ts copyManifestsPrefix
    ]);
  });

  it('blocks public access to the lake, denies requests without TLS, keeps versions, encrypts', () => {
    const bucket = template.Resources.LakeBucket!.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'AES256',
    });
    const rules = bucket.LifecycleConfiguration.Rules as Json[];
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'raw/', Status: 'Enabled' }),
        expect.objectContaining({ NoncurrentVersionExpiration: expect.anything() }),
        expect.objectContaining({ Prefix: 'control/copy-manifests/', ExpirationInDays: 30 }),
      ]),
    );
    // Raw data is never deleted (docs/architecture.md): no rule expires current objects under raw/,
    // nor under tables/, which no rule tiers either (its CSVs are under 128 KB: infra/lake.yml).
    expect(rules.filter((r) => String(r.Prefix).startsWith('tables/'))).toEqual([]);
    // Only the COPY manifests and Athena's query results expire.
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix as string)).toEqual([
      'control/copy-manifests/',
      'athena-results/',
    ]);
    const policy = template.Resources.LakeBucketPolicy!.Properties;
    expect(policy.Bucket).toEqual({ Ref: 'LakeBucket' });
    expect(policy.PolicyDocument.Statement).toContainEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [getAtt('LakeBucket'), { 'Fn::Sub': '${LakeBucket.Arn}/*' }],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('keeps Redshift Serverless private, reachable on 5439 from the dbt task only, with no password in the template', () => {
    const workgroup = template.Resources.WarehouseWorkgroup!.Properties;
    expect(workgroup.PubliclyAccessible).toBe(false);
    expect(workgroup.BaseCapacity).toEqual({ Ref: 'WarehouseBaseCapacity' });
    expect(template.Parameters.WarehouseBaseCapacity!.Default).toBe(8);
    expect(workgroup.SecurityGroupIds).toEqual([{ Ref: 'WarehouseSecurityGroup' }]);
    const namespace = template.Resources.WarehouseNamespace!.Properties;
    // The admin's password only as a dynamic reference to the stack's secret, resolved by CloudFormation.
    expect(namespace.AdminUserPassword).toEqual({
      'Fn::Sub': '{{resolve:secretsmanager:${WarehouseAdminSecret}:SecretString:password}}',
    });
    expect(template.Resources.WarehouseAdminSecret!.Properties.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'password',
      RequireEachIncludedType: true,
      ExcludeCharacters: `"'@/\\`,
    });
    expect(namespace.DefaultIamRoleArn).toEqual(getAtt('RedshiftCopyRole'));
    const ingress = resourcesOf('AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify({ Ref: 'WarehouseSecurityGroup' }),
    );
    expect(ingress.map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({
        FromPort: 5439,
        ToPort: 5439,
        SourceSecurityGroupId: { Ref: 'DbtTaskSecurityGroup' },
      }),
    ]);
    expect(template.Resources.WarehouseSecurityGroup!.Properties.SecurityGroupIngress).toBeUndefined();
    // No route to the internet at all: no internet gateway, no NAT.
    expect(resourcesOf('AWS::EC2::InternetGateway')).toEqual([]);
    expect(resourcesOf('AWS::EC2::NatGateway')).toEqual([]);
  });

  it("sets the warehouse up at deploy: the pipeline role's database user, owning stage and marts", () => {
    const setup = template.Resources.WarehouseSetup!;
    expect(setup.Type).toBe('Custom::WarehouseSetup');
    expect(setup.Properties).toEqual({
      ServiceToken: getAtt('WarehouseSetupLambdaFunction'),
      ServiceTimeout: 360,
      WorkgroupName: { Ref: 'WarehouseWorkgroup' },
      Database: { Ref: 'WarehouseDatabase' },
      AdminSecretArn: { Ref: 'WarehouseAdminSecret' },
      // The one role of the loader, transform, clean-up and the dbt task.
      PipelineRole: { Ref: 'WarehouseRole' },
      Schemas: [stageSchema, 'marts'],
    });
    // CloudFormation waits longer than the function may run, so it always hears the answer.
    const fn = template.Resources.WarehouseSetupLambdaFunction!.Properties;
    expect(fn.Timeout as number).toBeLessThan(setup.Properties.ServiceTimeout as number);
    // A statement given up on still leaves the function the time to answer (15 s kept for it).
    expect((fn.Timeout as number) * 1000).toBeGreaterThan(warehouseSetupStatementTimeoutMs + 15_000);
    expect(fn.Role).toEqual(getAtt('WarehouseSetupRole'));

    // Only the set-up may read the admin's secret; the pipeline's roles never name it.
    const readers = resourcesOf('AWS::IAM::Role')
      .filter(([, role]) => JSON.stringify(role.Properties.Policies).includes('"WarehouseAdminSecret"'))
      .map(([id]) => id);
    expect(readers).toEqual(['WarehouseSetupRole']);
    const statements = (
      template.Resources.WarehouseSetupRole!.Properties.Policies[0].PolicyDocument.Statement as Json[]
    ).map((s) => ({ Action: s.Action, Resource: s.Resource }));
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'WarehouseAdminSecret' } },
        {
          Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
          Resource: getAtt('WarehouseWorkgroup', 'Workgroup.WorkgroupArn'),
        },
      ]),
    );
    expect(template.Outputs.WarehouseUser).toEqual(
      expect.objectContaining({ Value: getAtt('WarehouseSetup', 'User') }),
    );
  });

  it('runs dbt on Fargate arm64 in a container named as the stop event expects, logging to CloudWatch', () => {
    const task = template.Resources.DbtTaskDefinition!.Properties;
    expect(task.RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    expect(task.RequiresCompatibilities).toEqual(['FARGATE']);
    const [container] = task.ContainerDefinitions as Json[];
    expect(container!.Name).toBe(dbtContainerName);
    expect((container!.LogConfiguration as Json).LogDriver).toBe('awslogs');
    expect(container!.Environment).toContainEqual({ Name: 'CHARTFLOW_REDSHIFT_METHOD', Value: 'iam_role' });
    expect(task.TaskRoleArn).toEqual(getAtt('WarehouseRole'));
    const repository = template.Resources.DbtRepository!.Properties;
    expect(repository.ImageScanningConfiguration).toEqual({ ScanOnPush: true });
    expect(repository.LifecyclePolicy.LifecyclePolicyText).toBeDefined();
  });

  it('alarms on every DLQ holding a message and on failed runs', () => {
    const alarms = resourcesOf('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    // CloudWatch can publish to the topic: it is not under SNS's AWS-managed key, whose fixed
    // policy leaves CloudWatch out.
    const topic = template.Resources.AlarmTopic!.Properties;
    expect(topic.KmsMasterKeyId).not.toBe('alias/aws/sns');
    expect(template.Resources.AlarmTopicPolicy!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
    );
    for (const dlq of [
      'TrackDeadLetterQueue',
      'TransformDeadLetterQueue',
      topology.asyncInvoke.onFailure.resource,
      topology.ruleDelivery.deadLetterQueue.resource,
    ]) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: getAtt(dlq, 'QueueName') }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
    }
    const filters = resourcesOf('AWS::Logs::MetricFilter').map(([, r]) => r.Properties);
    // The stage-cleanup handler's log call: logger.info('transform finished', { ...result }).
    expect(filters).toContainEqual(
      expect.objectContaining({
        LogGroupName: { 'Fn::Sub': '/aws/lambda/${AWS::StackName}-stageCleanup' },
        FilterPattern: '{ ($.message = "transform finished") && ($.status = "transform_failed") }',
      }),
    );
    expect(alarms).toContainEqual(expect.objectContaining({ MetricName: 'FailedRuns', Threshold: 0 }));
  });

  it('has the outputs the CLI and the other helpers read', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'LakeBucketName',
        'ReplayFunctionName',
        'TrackQueueUrl',
        'TrackDeadLetterQueueUrl',
        'TransformQueueUrl',
        'WarehouseWorkgroupName',
        'DbtRepositoryUri',
      ]),
    );
  });

  describe('nothing lost between functions, and a first deploy that works (issue 16)', () => {
    const roleOf = (fn: string) =>
      (template.Resources[logicalId(fn)]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statementsOf = (roleId: string) =>
      (
        template.Resources[roleId]!.Properties.Policies as { PolicyDocument: { Statement: Json[] } }[]
      ).flatMap((p) => p.PolicyDocument.Statement);

    it('gives every asynchronously invoked function an EventInvokeConfig: a maximum age, and its failures in a queue its role may send to', () => {
      const configs = resourcesOf('AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties);
      const configured = configs.map((c) => (c.FunctionName as { Ref: string }).Ref).sort();
      const expected = asyncInvokedFunctions().map(logicalId).sort();
      // chartFetch (schedule, inbox), stageLoader (raw/), stageCleanup (a rule), warehouseSetup (CloudFormation)
      expect(expected).toEqual(
        expect.arrayContaining([
          'ChartFetchLambdaFunction',
          'StageLoaderLambdaFunction',
          'StageCleanupLambdaFunction',
        ]),
      );
      expect(configured).toEqual(expected);
      const queue = topology.asyncInvoke.onFailure.resource;
      for (const config of configs) {
        expect(config.MaximumEventAgeInSeconds).toBe(topology.asyncInvoke.maximumEventAgeSeconds);
        expect(config.MaximumRetryAttempts).toBe(topology.asyncRetry.maxAttempts - 1);
        expect(config.DestinationConfig).toEqual({ OnFailure: { Destination: getAtt(queue) } });
      }
      for (const id of configured) {
        const fn = id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
        expect(statementsOf(roleOf(fn)), fn).toContainEqual(
          expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(queue) }),
        );
      }
      expect(template.Resources[queue]!.Properties.MessageRetentionPeriod).toBe(1209600);
    });

    it("gives every EventBridge rule target a retry policy and a dead-letter queue that only this stack's rules may send to", () => {
      const rules = resourcesOf('AWS::Events::Rule');
      expect(rules.length).toBeGreaterThanOrEqual(3); // the schedule, the transform rule, the dbt task's stop
      const dlq = topology.ruleDelivery.deadLetterQueue.resource;
      for (const [id, rule] of rules) {
        for (const target of rule.Properties.Targets as Json[]) {
          expect(target.RetryPolicy, id).toEqual({
            MaximumRetryAttempts: topology.ruleDelivery.maximumRetryAttempts,
            MaximumEventAgeInSeconds: topology.ruleDelivery.maximumEventAgeSeconds,
          });
          expect(target.DeadLetterConfig, id).toEqual({ Arn: getAtt(dlq) });
        }
      }
      const [policy] = resourcesOf('AWS::SQS::QueuePolicy').filter(([, r]) =>
        JSON.stringify(r.Properties.Queues).includes(`"${dlq}"`),
      );
      const [statement] = policy![1].Properties.PolicyDocument.Statement as Json[];
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt(dlq),
      });
      const sources = ((statement!.Condition as Json).ArnLike as Json)['aws:SourceArn'] as {
        'Fn::Sub': string;
      }[];
      // Every rule's name starts with the stack's (serverless names its own so; CloudFormation
      // prefixes the ones it names), so the condition admits them and no other stack's.
      expect(sources.map((s) => s['Fn::Sub'])).toEqual([
        'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${AWS::StackName}*',
        'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${AWS::StackName}/*',
      ]);
      for (const [, rule] of rules) {
        const name = rule.Properties.Name as string | undefined;
        if (name !== undefined) expect(name.startsWith('chartflow-test-')).toBe(true);
      }
    });

    it('keeps the lake, the warehouse, the dead-letter queues and the secrets when the stack goes', () => {
      const stateful = [
        'LakeBucket',
        'WarehouseNamespace',
        ...Object.values(topology.queues).map((q) => q.deadLetterQueue.resource),
        topology.asyncInvoke.onFailure.resource,
        topology.ruleDelivery.deadLetterQueue.resource,
        ...resourcesOf('AWS::SecretsManager::Secret').map(([id]) => id),
      ];
      expect(stateful).toEqual(expect.arrayContaining(['SpotifySecret', 'WarehouseAdminSecret']));
      for (const id of stateful) {
        const resource = template.Resources[id]!;
        expect([id, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
      }
    });

    it('needs no ECS service-linked role: the cluster declares no capacity provider', () => {
      expect(template.Resources.DbtCluster!.Properties.CapacityProviders).toBeUndefined();
      expect(resourcesOf('AWS::ECS::ClusterCapacityProviderAssociations')).toEqual([]);
      expect(resourcesOf('AWS::ECS::CapacityProvider')).toEqual([]);
    });

    it('places the subnets by Availability Zone ID when the deploy names them, else in the first three zones', () => {
      const subnets = ['PrivateSubnetA', 'PrivateSubnetB', 'PrivateSubnetC'];
      subnets.forEach((id, i) => {
        const letter = id.at(-1);
        const p = template.Resources[id]!.Properties;
        expect(p.AvailabilityZoneId).toEqual({
          'Fn::If': [`HasAzId${letter}`, { Ref: `PrivateSubnetAzId${letter}` }, { Ref: 'AWS::NoValue' }],
        });
        expect(p.AvailabilityZone).toEqual({
          'Fn::If': [
            `HasAzId${letter}`,
            { Ref: 'AWS::NoValue' },
            { 'Fn::Select': [i, { 'Fn::GetAZs': '' }] },
          ],
        });
        const parameter = template.Parameters[`PrivateSubnetAzId${letter}`]!;
        expect(parameter.Default).toBe('');
        expect(stackParameters[`PrivateSubnetAzId${letter}`]).toBe('');
        expect(template.Conditions?.[`HasAzId${letter}`]).toEqual({
          'Fn::Not': [{ 'Fn::Equals': [{ Ref: `PrivateSubnetAzId${letter}` }, ''] }],
        });
      });
    });

    it('runs the schedule only once the deploy enables it, and points dbt at a tagged image, not :latest', () => {
      const rule = template.Resources.ChartScheduleRule!.Properties;
      expect(rule.State).toEqual({ 'Fn::If': ['IsScheduleEnabled', 'ENABLED', 'DISABLED'] });
      expect(template.Conditions?.IsScheduleEnabled).toEqual({
        'Fn::Equals': [{ Ref: 'ScheduleEnabled' }, 'true'],
      });
      expect(stackParameters.ScheduleEnabled).toBe('false');
      expect(stackParameters.DbtImageTag).toBe('none');
      expect(template.Parameters.DbtImageTag!.Default).toBe('none');
      const [container] = template.Resources.DbtTaskDefinition!.Properties.ContainerDefinitions as Json[];
      expect(JSON.stringify(container!.Image)).toContain(':${DbtImageTag}');
      expect(JSON.stringify(template)).not.toContain(':latest');
      expect(template.Resources.DbtRepository!.Properties.ImageTagMutability).toBe('IMMUTABLE');
    });
  });

  describe.skipIf(!cfnLintAvailable)('cfn-lint', () => {
    interface Finding {
      Rule: { Id: string };
      Message: string;
      Level: string;
    }
    const lint = async (file: string): Promise<Finding[]> => {
      try {
        // Informational findings too: a stateful resource without explicit deletion policies is one.
        await run(cfnLint, ['--include-checks', 'I', '--format', 'json', '--', file], {
          maxBuffer: 16 * 1024 * 1024,
        });
        return [];
      } catch (error) {
        // cfn-lint exits non-zero when it finds anything; its findings are on stdout.
        const { stdout } = error as { stdout?: string };
        if (!stdout) throw error;
        return JSON.parse(stdout) as Finding[];
      }
    };
    const show = (what: string, findings: Finding[]) => {
      for (const f of findings)
        console.log(`cfn-lint ${what}: ${f.Level} ${f.Rule.Id} ${f.Message.slice(0, 200)}`);
    };

    it('finds no error in the compiled template', async () => {
      const findings = await lint(path.join(dir, 'cloudformation-template-update-stack.json'));
      show('compiled', findings);
      expect(findings.filter((f) => f.Level === 'Error')).toEqual([]);
      // I3011: a stateful resource (a bucket, a queue, a log group, a secret…) whose DeletionPolicy
      // and UpdateReplacePolicy are left to CloudFormation's default, deletion.
      expect(findings.filter((f) => f.Rule.Id === 'I3011').map((f) => f.Message)).toEqual([]);
    }, 120_000);

    it('finds no error in infra/*.yml, but references to what serverless adds', async () => {
      // The files are one template once serverless includes them: lint them merged (with the
      // venv's PyYAML, reading CloudFormation's short tags).
      const merged = path.join(dir, 'infra-merged.json');
      const script = `
import glob, json, yaml
class Loader(yaml.SafeLoader): pass
def tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode): value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode): value = loader.construct_sequence(node, deep=True)
    else: value = loader.construct_mapping(node, deep=True)
    if suffix == 'GetAtt' and isinstance(value, str): value = value.split('.', 1)
    return {('Ref' if suffix == 'Ref' else 'Fn::' + suffix): value}
Loader.add_multi_constructor('!', tag)
merged = {'AWSTemplateFormatVersion': '2010-09-09'}
for file in sorted(glob.glob('infra/*.yml')):
    for key, value in yaml.load(open(file), Loader=Loader).items():
        merged.setdefault(key, {}).update(value)
json.dump(merged, open(${JSON.stringify(merged)}, 'w'))
`;
      await run(venvPython, ['-c', script], { cwd: root });
      const findings = await lint(merged);
      show('infra', findings);
      const serverlessAdds = (message: string) => {
        const id = /^'([A-Za-z0-9]+)' is not one of/.exec(message)?.[1];
        return id !== undefined && /(LambdaFunction|LogGroup)$/.test(id) && id in template.Resources;
      };
      const errors = findings.filter((f) => f.Level === 'Error');
      expect(errors.filter((f) => !serverlessAdds(f.Message))).toEqual([]);
    }, 120_000);
  });
});
