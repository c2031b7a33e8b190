import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  athenaResultsPrefix,
  csvTableName,
  csvViewSql,
  hiveType,
  lakeCatalogYaml,
} from '../../infra/lake-catalog-template.js';
import { lakeDatasets, type LakeDataset } from '../../shared/lake/catalog.js';
import { athenaParserAvailable, parseAsAthena } from '../support/athena-sql.js';
import {
  packageServerless,
  type CompiledTemplate,
  type TemplateResource,
} from '../support/serverless-template.js';

/**
 * The lake's catalog on AWS, as `serverless package` compiles it (infra/lake-catalog.yml, generated
 * from shared/lake/catalog.ts): the Glue database, a table per dataset with partition projection, the
 * typed views of the CSV tables, the Athena workgroup and the analyst role's scope.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const bucket = '${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}';

type Json = Record<string, unknown>;
// The template is free-form JSON; the assertions read it by path.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const tableOf = (resources: Record<string, TemplateResource>, name: string): TemplateResource | undefined =>
  Object.values(resources).find(
    (r) => r.Type === 'AWS::Glue::Table' && (r.Properties.TableInput as Json | undefined)?.Name === name,
  );

/** The Presto view JSON Glue keeps for an Athena view, with the database's name put in. */
const viewOf = (resource: TemplateResource, database: string): Json => {
  const [, [, encoded]] = resource.Properties.TableInput.ViewOriginalText['Fn::Join'] as [
    string,
    [string, Any, string],
  ];
  const [text, variables] = encoded['Fn::Base64']['Fn::Sub'] as [string, Json];
  expect(variables).toEqual({ Database: { Ref: 'LakeDatabase' } });
  return JSON.parse(text.replaceAll('${Database}', database)) as Json;
};

describe('The lake catalog on AWS (compiled template)', () => {
  let template: CompiledTemplate;
  let dir: string;
  let stackParameters: Record<string, string>;

  beforeAll(async () => {
    ({ template, dir, stackParameters } = await packageServerless());
  }, 180_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is the file npm run infra:catalog writes from the catalog (regenerate it when this fails)', () => {
    expect(readFileSync(path.join(root, 'infra', 'lake-catalog.yml'), 'utf8')).toBe(lakeCatalogYaml());
  });

  it('has a Glue database named after the stack, in Athena’s spelling', () => {
    const database = template.Resources.LakeDatabase!;
    expect(database.Type).toBe('AWS::Glue::Database');
    expect(database.Properties.DatabaseInput.Name).toEqual({
      'Fn::Join': ['_', { 'Fn::Split': ['-', { Ref: 'AWS::StackName' }] }],
    });
    expect(template.Outputs.LakeDatabaseName).toMatchObject({ Value: { Ref: 'LakeDatabase' } });
  });

  describe.each(lakeDatasets.map((d) => [d.name, d] as const))('dataset %s', (_, dataset: LakeDataset) => {
    const table = () =>
      tableOf(template.Resources, dataset.format === 'csv' ? csvTableName(dataset) : dataset.name);

    it('has a Glue table over its folder alone, partitioned as the lake is, with projection and no crawler', () => {
      const input = table()!.Properties.TableInput as Any;
      expect(input.TableType).toBe('EXTERNAL_TABLE');
      expect(input.StorageDescriptor.Location).toEqual({ 'Fn::Sub': `s3://${bucket}/${dataset.root}` });
      expect(input.PartitionKeys).toEqual(dataset.partitions.map((p) => ({ Name: p.name, Type: 'string' })));
      const folders = dataset.partitions.map((p) => p.folder.replace('${value}', `\${!${p.name}}`)).join('/');
      expect(input.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.date.type': 'date',
        'projection.date.format': 'yyyy-MM-dd',
        'projection.date.range': '2017-01-01,NOW',
        'projection.date.interval': '1',
        'projection.date.interval.unit': 'DAYS',
        'projection.chart.type': 'injected',
        'storage.location.template': { 'Fn::Sub': `s3://${bucket}/${dataset.root}${folders}/` },
      });
      if (dataset.name === 'quarantine') {
        expect(input.Parameters).toMatchObject({
          'projection.dataset.type': 'enum',
          'projection.dataset.values': 'chart_songs,song_attributes',
        });
      }
      expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::Glue::Crawler')).toBe(false);
    });

    it('reads its files in their format, with the catalog’s columns', () => {
      const descriptor = (table()!.Properties.TableInput as Any).StorageDescriptor;
      if (dataset.format === 'csv') {
        expect(descriptor.SerdeInfo).toEqual({
          SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
          Parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '"' },
        });
        expect((table()!.Properties.TableInput as Any).Parameters['skip.header.line.count']).toBe('1');
        expect(descriptor.Columns).toEqual(dataset.columns.map((c) => ({ Name: c.name, Type: 'string' })));
      } else {
        expect(descriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
        expect(descriptor.Columns).toEqual(
          dataset.columns.map((c) => ({ Name: c.name, Type: hiveType(c.type) })),
        );
        // Columns named apart from their JSON keys are mapped to them.
        for (const c of dataset.columns.filter((f) => f.key !== undefined)) {
          expect(descriptor.SerdeInfo.Parameters[`mapping.${c.name}`]).toBe(c.key);
        }
      }
    });
  });

  describe.each(lakeDatasets.filter((d) => d.format === 'csv').map((d) => [d.name, d] as const))(
    'CSV dataset %s',
    (_, dataset: LakeDataset) => {
      it('has a view under its own name that types the text columns', () => {
        const view = tableOf(template.Resources, dataset.name)!;
        const input = view.Properties.TableInput as Any;
        expect(input.TableType).toBe('VIRTUAL_VIEW');
        expect(input.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
        const presto = viewOf(view, 'chartflow_test');
        expect(presto.originalSql).toBe(csvViewSql(dataset, 'chartflow_test'));
        expect(presto.schema).toBe('chartflow_test');
        expect((presto.columns as { name: string }[]).map((c) => c.name)).toEqual([
          ...dataset.columns.map((c) => c.name),
          ...dataset.partitions.map((p) => p.name),
        ]);
        expect(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual(
          (presto.columns as { name: string }[]).map((c) => c.name),
        );
      });
    },
  );

  it.runIf(athenaParserAvailable())(
    'has views whose SQL Athena’s dialect (Trino, in sqlglot) parses',
    async () => {
      await parseAsAthena(
        lakeDatasets.filter((d) => d.format === 'csv').map((d) => csvViewSql(d, 'chartflow_test')),
      );
    },
  );

  it('has an Athena workgroup on engine 3, its results in the lake bucket, encrypted, its scan limited', () => {
    const workgroup = template.Resources.LakeWorkgroup!;
    expect(workgroup.Type).toBe('AWS::Athena::WorkGroup');
    const configuration = workgroup.Properties.WorkGroupConfiguration as Any;
    expect(configuration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: { Ref: 'LakeQueryScanLimitBytes' },
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: {
        OutputLocation: { 'Fn::Sub': `s3://${bucket}/${athenaResultsPrefix}` },
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
      },
    });
    expect(stackParameters.LakeQueryScanLimitBytes).toBe('1073741824');
    expect(template.Parameters.LakeQueryScanLimitBytes).toMatchObject({ MinValue: 10485760 });
    expect(template.Outputs.LakeWorkgroupName).toMatchObject({ Value: { Ref: 'LakeWorkgroup' } });
    // Results are not under raw/: writing them loads nothing.
    expect(athenaResultsPrefix.startsWith('raw/')).toBe(false);
  });

  it('expires Athena’s results in the lake bucket after a week', () => {
    const rules = (template.Resources.LakeBucket!.Properties.LifecycleConfiguration as Any).Rules as Json[];
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: athenaResultsPrefix, Status: 'Enabled', ExpirationInDays: 7 }),
    );
  });

  describe('the analyst role', () => {
    const statements = () =>
      (template.Resources.LakeAnalystRole!.Properties.Policies as Any[]).flatMap(
        (p) => p.PolicyDocument.Statement as Any[],
      );
    const sub = (value: Any): string => (typeof value === 'string' ? value : (value['Fn::Sub'] as string));

    it('may query in the stack’s workgroup only', () => {
      const athena = statements().filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('athena:')),
      );
      expect(athena).toHaveLength(1);
      expect(sub(athena[0].Resource)).toBe(
        'arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${LakeWorkgroup}',
      );
      expect([athena[0].Action].flat().every((a: string) => /^athena:(Start|Get|Stop)/.test(a))).toBe(true);
    });

    it('reads the lake’s catalog, and changes none of it', () => {
      const glue = statements().filter((s) => [s.Action].flat().some((a: string) => a.startsWith('glue:')));
      expect(glue.flatMap((s) => [s.Action].flat()).every((a: string) => /^glue:Get/.test(a))).toBe(true);
      expect(glue.flatMap((s) => [s.Resource].flat()).map(sub)).toEqual([
        'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog',
        'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${LakeDatabase}',
        'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${LakeDatabase}/*',
      ]);
    });

    it('reads the datasets’ folders and nothing else of the lake; writes only query results', () => {
      const s3 = statements().filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
      const objectArn = (prefix: string) => `arn:\${AWS::Partition}:s3:::${bucket}/${prefix}*`;
      const reads = s3.filter((s) => [s.Action].flat().includes('s3:GetObject'));
      expect(
        reads
          .flatMap((s) => [s.Resource].flat())
          .map(sub)
          .sort(),
      ).toEqual([...lakeDatasets.map((d) => objectArn(d.root)), objectArn(athenaResultsPrefix)].sort());
      const writes = s3.filter((s) => [s.Action].flat().some((a: string) => /^s3:(Put|Delete)/.test(a)));
      expect(writes.flatMap((s) => [s.Resource].flat()).map(sub)).toEqual([objectArn(athenaResultsPrefix)]);
      expect(s3.flatMap((s) => [s.Action].flat()).some((a: string) => a.startsWith('s3:Delete'))).toBe(false);
      const listing = s3.find((s) => [s.Action].flat().includes('s3:ListBucket'));
      expect(listing.Condition.StringLike['s3:prefix']).toEqual(
        [...lakeDatasets.map((d) => d.root), athenaResultsPrefix].flatMap((p) => [p, `${p}*`]),
      );
      // Nowhere a "*" resource, nor raw/ or the rest of control/.
      for (const resource of statements()
        .flatMap((s) => [s.Resource].flat())
        .map(sub)) {
        expect(resource).not.toBe('*');
        expect(resource).not.toMatch(/\/raw\/|\/control\/(?!runs\/)/);
      }
    });

    it('is taken by identities of the account, and named in the outputs', () => {
      const trust = template.Resources.LakeAnalystRole!.Properties.AssumeRolePolicyDocument as Any;
      expect(trust.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
          Action: 'sts:AssumeRole',
        },
      ]);
      expect(template.Outputs.LakeAnalystRoleArn).toMatchObject({
        Value: { 'Fn::GetAtt': ['LakeAnalystRole', 'Arn'] },
      });
    });
  });
});
