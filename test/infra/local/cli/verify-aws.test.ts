import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { rawPrefix } from '../../../../shared/lake/keys.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';
import { chartCsvKey, claim, day, landDay, manifestKey, run1 } from '../../../support/landed-days.js';

const available = motoAvailable();

interface Verdict {
  lake: string;
  ok: boolean;
  checked: number;
  counts: Record<string, number>;
  days: { problems: { key: string; kind: string }[] }[];
  seals?: { sealed: { key: string; files: number }[]; skipped: unknown[] }[];
}

describe.skipIf(!available)('Command: chartflow verify --target aws (moto, S3 checksums)', () => {
  let moto: Moto;
  let s3: S3Client;
  let bucket: string;
  let lake: S3ObjectStore;
  let out: string[];
  let notes: string[];

  const context = (): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent/chartflow-home' }),
    clock: { now: () => new Date('2026-11-22T10:00:00Z'), sleep: async () => undefined },
    processEnv: {},
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
    aws: { clientSettings: moto.clientConfig },
  });
  const chartflow = async (...args: string[]) => {
    const code = await main(
      ['node', 'chartflow', 'verify', '--target', 'aws', '--region', moto.region, ...args],
      context(),
    );
    return { code, verdict: args.includes('--json') ? (JSON.parse(out.join('\n')) as Verdict) : undefined };
  };
  const problemsOf = (verdict: Verdict | undefined) =>
    verdict!.days.flatMap((d) => d.problems).map(({ key, kind }) => ({ key, kind }));

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-dev',
        TemplateBody: JSON.stringify({
          Resources: { Lake: { Type: 'AWS::S3::Bucket' } },
          Outputs: { LakeBucketName: { Value: { Ref: 'Lake' } } },
        }),
      }),
    );
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'chartflow-dev' }));
    bucket = described.Stacks![0]!.Outputs!.find((o) => o.OutputKey === 'LakeBucketName')!.OutputValue!;
    cloudFormation.destroy();
    lake = new S3ObjectStore({ client: s3, bucket });
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    out = [];
    notes = [];
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length > 0)
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  });

  it('passes a verified day of the bucket, held to the SHA-256 S3 keeps for each object', async () => {
    await landDay(lake, run1, 'verified');
    await claim(lake, run1);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: chartCsvKey, ChecksumMode: 'ENABLED' }),
    );
    expect(head.ChecksumSHA256).toBeDefined();

    const { code, verdict } = await chartflow('--json');
    expect(code).toBe(0);
    expect(verdict).toMatchObject({
      lake: `s3://${bucket} (stack chartflow-dev, ${moto.region})`,
      ok: true,
      checked: 2 + 2 * 3,
    });
    expect(problemsOf(verdict)).toEqual([]);
  });

  it('lists exactly the damaged, missing and unlisted objects, and exits 1', async () => {
    const { first, second } = await landDay(lake, run1, 'verified');
    await claim(lake, run1);
    const chart = (await lake.get(chartCsvKey))!.toString('utf8');
    await lake.put(chartCsvKey, chart.split('\n').slice(0, 3).join('\n') + '\n');
    await lake.put(
      second.attributes,
      (await lake.get(second.attributes))!.toString('utf8').replace(',88,', ',42,'),
    );
    await lake.delete(first.artists);
    await lake.put(
      `${rawPrefix('song_attributes', day.chartDate, day.chartId)}part-0123456789abcdef.song_attributes.csv`,
      'x',
    );

    const { code, verdict } = await chartflow('--json', '--from', day.chartDate, '--to', day.chartDate);
    expect(code).toBe(1);
    expect(problemsOf(verdict)).toEqual([
      { key: chartCsvKey, kind: 'size' },
      { key: first.artists, kind: 'missing' },
      { key: second.attributes, kind: 'checksum' },
      {
        key: `${rawPrefix('song_attributes', day.chartDate, day.chartId)}part-0123456789abcdef.song_attributes.csv`,
        kind: 'unlisted',
      },
    ]);
  });

  it('seals a loaded day written before checksums on the bucket, once; verify then holds it to them', async () => {
    const { first } = await landDay(lake, run1, 'keys');
    await claim(lake, run1);
    let result = await chartflow();
    expect(result.code).toBe(0);
    expect(out.join('\n')).toContain('chartflow verify --seal records them once.');

    out = [];
    result = await chartflow('--seal', '--json');
    expect(result.code).toBe(0);
    expect(result.verdict!.seals![0]!.sealed.map((s) => s.files)).toEqual([2, 3, 3]);
    expect(result.verdict!.seals![0]!.sealed[0]!.key).toBe(manifestKey);
    expect(result.verdict!.counts.unverified).toBe(0);

    await lake.put(first.attributes, 'x');
    out = [];
    result = await chartflow('--json');
    expect(result.code).toBe(1);
    expect(problemsOf(result.verdict)).toEqual([{ key: first.attributes, kind: 'size' }]);
  });

  it('refuses --wait with --target aws (exit 2): it takes no home there', async () => {
    const { code } = await chartflow('--seal', '--wait', '5');
    expect(code).toBe(2);
    expect(notes.join('\n')).toContain('--wait is for --seal on this machine only');
  });
});
