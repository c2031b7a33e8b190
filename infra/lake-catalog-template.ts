import { stringify } from 'yaml';
import {
  lakeDatasets,
  partitionType,
  type LakeDataset,
  type LakeField,
  type LakeType,
} from '../shared/lake/catalog.js';
import { stageTables, type ColumnType } from '../shared/records/stage-tables.js';

/**
 * The lake's catalog on AWS, drawn from `shared/lake/catalog.ts`: a Glue database, one Glue table
 * per dataset with partition projection (no crawler, no `MSCK REPAIR`: a day is queryable the moment
 * its files land), an Athena workgroup whose results stay in the lake bucket, encrypted and with a
 * per-query scan limit, and a read-only analyst role. `npm run infra:catalog` writes it to
 * infra/lake-catalog.yml, which serverless.yml includes; test/infra/lake-catalog.test.ts fails when
 * the file and this module differ. Why it is shaped so: docs/lake.md.
 */

/** Where Athena keeps query results: in the lake bucket, outside `raw/` (writing there loads nothing). */
export const athenaResultsPrefix = 'athena-results/';

/** The oldest day a date partition can be (Spotify's daily charts begin in 2017). */
export const firstLakeDay = '2017-01-01';

type Cfn = Record<string, unknown>;

const bucketName = '${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}';
const databaseRef = { Ref: 'LakeDatabase' };

const pascal = (name: string) =>
  name
    .split('_')
    .map((w) => `${w[0]!.toUpperCase()}${w.slice(1)}`)
    .join('');

const hivePrimitive: Record<Exclude<LakeType, object>, string> = {
  text: 'string',
  integer: 'int',
  bigint: 'bigint',
  double: 'double',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  json: 'string',
};

/** A catalog type as Glue (Hive) names it; a struct's fields by their JSON keys, which Athena matches ignoring case. */
export const hiveType = (type: LakeType): string => {
  if (typeof type === 'string') return hivePrimitive[type];
  if ('map' in type) return `map<string,${hiveType(type.map)}>`;
  if ('list' in type) return `array<${hiveType(type.list)}>`;
  return `struct<${type.struct.map((f) => `${(f.key ?? f.name).toLowerCase()}:${hiveType(f.type)}`).join(',')}>`;
};

const trinoPrimitive: Record<ColumnType, string> = {
  text: 'varchar',
  integer: 'integer',
  bigint: 'bigint',
  double: 'double',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp(3)',
};

/** The table that reads a CSV dataset's files as text, which its view types. */
export const csvTableName = (dataset: LakeDataset): string => `${dataset.name}_csv`;

const partitionKeys = (dataset: LakeDataset) =>
  dataset.partitions.map((p) => ({ Name: p.name, Type: hivePrimitive[partitionType] }));

/**
 * Partition projection: `date` a day from {@link firstLakeDay} to today; `chart` injected (a query
 * names its charts, `chart = 'global'`, since charts come from playlists and from files dropped at
 * any time, and an enum would need a deploy for each new one); the quarantine's `dataset` one of
 * its two folders. The template puts each partition where the pipeline writes it.
 */
const projection = (dataset: LakeDataset): Cfn => {
  const properties: Record<string, string> = { 'projection.enabled': 'true' };
  for (const p of dataset.partitions) {
    if (p.name === 'date') {
      Object.assign(properties, {
        'projection.date.type': 'date',
        'projection.date.format': 'yyyy-MM-dd',
        'projection.date.range': `${firstLakeDay},NOW`,
        'projection.date.interval': '1',
        'projection.date.interval.unit': 'DAYS',
      });
    } else if (p.name === 'chart') {
      properties['projection.chart.type'] = 'injected';
    } else {
      properties[`projection.${p.name}.type`] = 'enum';
      properties[`projection.${p.name}.values`] = (p.values ?? []).join(',');
    }
  }
  // `${!name}` is Fn::Sub's way of writing a literal `${name}`, which Athena fills in.
  const folders = dataset.partitions.map((p) => p.folder.replace('${value}', `\${!${p.name}}`)).join('/');
  properties['storage.location.template'] = {
    'Fn::Sub': `s3://${bucketName}/${dataset.root}${folders}/`,
  } as never;
  return properties;
};

const location = (dataset: LakeDataset) => ({ 'Fn::Sub': `s3://${bucketName}/${dataset.root}` });

/**
 * A Glue table over a dataset's folder, read as text files (the CSV and the JSON lines alike) with
 * `serde`, its partitions projected.
 */
const textTable = (
  dataset: LakeDataset,
  table: { name: string; description: string; parameters: Record<string, string> },
  serde: Cfn,
  columns: readonly { Name: string; Type: string }[],
): Cfn => ({
  Type: 'AWS::Glue::Table',
  Properties: {
    CatalogId: { Ref: 'AWS::AccountId' },
    DatabaseName: databaseRef,
    TableInput: {
      Name: table.name,
      Description: table.description,
      TableType: 'EXTERNAL_TABLE',
      Parameters: { ...table.parameters, ...projection(dataset) },
      PartitionKeys: partitionKeys(dataset),
      StorageDescriptor: {
        Location: location(dataset),
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        SerdeInfo: serde,
        Columns: columns,
      },
    },
  },
});

const csvTable = (dataset: LakeDataset): Cfn =>
  textTable(
    dataset,
    {
      name: csvTableName(dataset),
      description: `${dataset.description} Every column as the file's text; query the view ${dataset.name}, which types them.`,
      parameters: { classification: 'csv', 'skip.header.line.count': '1' },
    },
    {
      SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
      // Quotes inside a text are doubled, as the pipeline writes them (shared/records/csv.ts).
      Parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '"' },
    },
    dataset.columns.map((c) => ({ Name: c.name, Type: 'string' })),
  );

const quoted = (name: string) => `"${name}"`;

/**
 * A column of a CSV dataset's view, typed from its text. Athena's CSV reader gives NULL and the
 * empty text alike as '' (docs/lake.md): a nullable column reads '' as NULL.
 */
const typedColumn = (table: keyof typeof stageTables, field: LakeField): string => {
  const column = stageTables[table].find((c) => c.name === field.name)!;
  const text = column.nullable ? `nullif(${quoted(column.name)}, '')` : quoted(column.name);
  return column.type === 'text'
    ? `${text} AS ${quoted(column.name)}`
    : `CAST(${text} AS ${trinoPrimitive[column.type]}) AS ${quoted(column.name)}`;
};

/** The Trino query of a CSV dataset's view. */
export const csvViewSql = (dataset: LakeDataset, database: string): string => {
  const table = dataset.name as keyof typeof stageTables;
  const columns = [
    ...dataset.columns.map((c) => typedColumn(table, c)),
    ...dataset.partitions.map((p) => quoted(p.name)),
  ];
  return `SELECT ${columns.join(', ')} FROM ${quoted(database)}.${quoted(csvTableName(dataset))}`;
};

/**
 * The view as Glue keeps an Athena view: the query and its columns in Presto's JSON, base64 in
 * `ViewOriginalText`. The database's name is only known at deploy time, hence `Fn::Sub`.
 */
const csvView = (dataset: LakeDataset): Cfn => {
  const table = dataset.name as keyof typeof stageTables;
  const placeholder = '${Database}';
  const view = {
    originalSql: csvViewSql(dataset, placeholder),
    catalog: 'awsdatacatalog',
    schema: placeholder,
    columns: [
      ...dataset.columns.map((c) => ({
        name: c.name,
        type: trinoPrimitive[stageTables[table].find((s) => s.name === c.name)!.type],
      })),
      ...dataset.partitions.map((p) => ({ name: p.name, type: 'varchar' })),
    ],
    owner: 'chartflow',
    runAsInvoker: false,
    properties: {},
  };
  return {
    Type: 'AWS::Glue::Table',
    DependsOn: [`Lake${pascal(dataset.name)}CsvTable`],
    Properties: {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: databaseRef,
      TableInput: {
        Name: dataset.name,
        Description: dataset.description,
        TableType: 'VIRTUAL_VIEW',
        Parameters: { presto_view: 'true', comment: 'Presto View' },
        ViewOriginalText: {
          'Fn::Join': [
            '',
            [
              '/* Presto View: ',
              { 'Fn::Base64': { 'Fn::Sub': [JSON.stringify(view), { Database: databaseRef }] } },
              ' */',
            ],
          ],
        },
        ViewExpandedText: '/* Presto View */',
        StorageDescriptor: {
          Columns: [
            ...dataset.columns.map((c) => ({ Name: c.name, Type: hiveType(c.type) })),
            ...dataset.partitions.map((p) => ({ Name: p.name, Type: 'string' })),
          ],
          SerdeInfo: {},
        },
      },
    },
  };
};

/** A JSON dataset's table: one record per line (OpenX's JSON reader), columns mapped to their keys. */
const jsonTable = (dataset: LakeDataset): Cfn =>
  textTable(
    dataset,
    { name: dataset.name, description: dataset.description, parameters: { classification: 'json' } },
    {
      SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      Parameters: Object.fromEntries(
        dataset.columns.filter((c) => c.key !== undefined).map((c) => [`mapping.${c.name}`, c.key!]),
      ),
    },
    dataset.columns.map((c) => ({ Name: c.name, Type: hiveType(c.type) })),
  );

/** The prefixes the analyst reads: every dataset's root, nothing else of the lake. */
export const analystReadPrefixes = (): string[] => lakeDatasets.map((d) => d.root);

/** What the analyst may do: query in the workgroup, read the catalog and the datasets' folders, write results. */
const analystStatements = (): Cfn[] => {
  const workgroupArn = {
    'Fn::Sub': 'arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${LakeWorkgroup}',
  };
  const prefixes = [...analystReadPrefixes(), athenaResultsPrefix];
  return [
    {
      Sid: 'QueriesInTheWorkgroup',
      Effect: 'Allow',
      Action: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      Resource: workgroupArn,
    },
    {
      Sid: 'TheLakeCatalog',
      Effect: 'Allow',
      Action: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      Resource: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog' },
        { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${LakeDatabase}' },
        { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${LakeDatabase}/*' },
      ],
    },
    {
      Sid: 'ListTheDataPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}` },
      Condition: { StringLike: { 's3:prefix': prefixes.flatMap((p) => [p, `${p}*`]) } },
    },
    {
      Sid: 'WhereTheBucketIs',
      Effect: 'Allow',
      Action: 's3:GetBucketLocation',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}` },
    },
    {
      Sid: 'ReadTheData',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: analystReadPrefixes().map((p) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/${p}*`,
      })),
    },
    {
      Sid: 'QueryResults',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/${athenaResultsPrefix}*` },
    },
  ];
};

const analystRole = (): Cfn => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    RoleName: { 'Fn::Sub': '${AWS::StackName}-lake-analyst' },
    Description:
      "Reads the lake's datasets with Athena in the stack's workgroup; writes nothing but query results.",
    MaxSessionDuration: 3600,
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          // Any identity of the account that is itself allowed sts:AssumeRole on this role.
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
          Action: 'sts:AssumeRole',
        },
      ],
    },
    Policies: [
      {
        PolicyName: 'lake-analyst',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: analystStatements(),
        },
      },
    ],
  },
});

/** The CloudFormation of the lake's catalog: parameters, resources and outputs. */
export const lakeCatalogTemplate = (): Cfn => {
  const resources: Record<string, Cfn> = {
    LakeDatabase: {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: {
          // Athena's names are lower case with underscores: chartflow-dev → chartflow_dev.
          Name: { 'Fn::Join': ['_', { 'Fn::Split': ['-', { Ref: 'AWS::StackName' }] }] },
          Description: "chartflow's lake, read where it lies (docs/lake.md).",
        },
      },
    },
  };
  for (const dataset of lakeDatasets) {
    if (dataset.format === 'csv') {
      resources[`Lake${pascal(dataset.name)}CsvTable`] = csvTable(dataset);
      resources[`Lake${pascal(dataset.name)}View`] = csvView(dataset);
    } else {
      resources[`Lake${pascal(dataset.name)}Table`] = jsonTable(dataset);
    }
  }
  resources.LakeWorkgroup = {
    Type: 'AWS::Athena::WorkGroup',
    Properties: {
      Name: { 'Fn::Sub': '${AWS::StackName}-lake' },
      Description:
        "Queries over chartflow's lake: results in its bucket, encrypted, each query's scan limited.",
      State: 'ENABLED',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: { Ref: 'LakeQueryScanLimitBytes' },
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Sub': `s3://${bucketName}/${athenaResultsPrefix}` },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    },
  };
  resources.LakeAnalystRole = analystRole();
  return {
    Parameters: {
      LakeQueryScanLimitBytes: {
        Type: 'Number',
        Default: 1073741824,
        MinValue: 10485760,
        Description:
          'The most one Athena query of the lake may scan, in bytes (Athena refuses to go on past it).',
      },
    },
    Resources: resources,
    Outputs: {
      LakeDatabaseName: {
        Description: "The Glue database of the lake's tables.",
        Value: { Ref: 'LakeDatabase' },
      },
      LakeWorkgroupName: {
        Description: 'The Athena workgroup for queries of the lake.',
        Value: { Ref: 'LakeWorkgroup' },
      },
      LakeAnalystRoleArn: {
        Description:
          'The role `chartflow sql --lake --target aws` assumes: reads the lake, writes nothing but results.',
        Value: { 'Fn::GetAtt': ['LakeAnalystRole', 'Arn'] },
      },
    },
  };
};

/** infra/lake-catalog.yml as `npm run infra:catalog` writes it. */
export const lakeCatalogYaml = (): string =>
  `# Generated from shared/lake/catalog.ts by \`npm run infra:catalog\` (infra/lake-catalog-template.ts):\n` +
  `# edit those, not this file. test/infra/lake-catalog.test.ts fails when the two differ.\n` +
  stringify(lakeCatalogTemplate(), {
    lineWidth: 0,
    aliasDuplicateObjects: false,
    // YAML 1.1's rules, as serverless's and cfn-lint's readers have them: a text like 2012-10-17 is quoted, not read as a date.
    version: '1.1',
  });
