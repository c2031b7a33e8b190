import { describe, expect, it } from 'vitest';
import { redshiftLiteral, s3Uri, s3UriLiteral } from '../../../../infra/adapters/aws/redshift-literal.js';
import { InvalidRecordError } from '../../../../shared/errors.js';
import { lakeKeys, legacyLakeKeys } from '../../../../shared/lake/keys.js';
import { stageTableNames } from '../../../../shared/records/stage-tables.js';

const runId = '20261121T060000000Z-9f2c4a1b';

describe('Function: redshiftLiteral', () => {
  it('quotes values that passed our schemas', () => {
    expect(redshiftLiteral('runId', '20261121T060000000Z-9f2c4a1b')).toBe("'20261121T060000000Z-9f2c4a1b'");
    expect(redshiftLiteral('chartId', 'top-50-fr')).toBe("'top-50-fr'");
    expect(redshiftLiteral('isoDate', '2026-11-20')).toBe("'2026-11-20'");
    expect(redshiftLiteral('roleArn', 'arn:aws:iam::123456789012:role/service-role/copy')).toBe(
      "'arn:aws:iam::123456789012:role/service-role/copy'",
    );
  });

  it.each([
    ['runId', "r1234567' or '1'='1"],
    ['runId', '20261121T060000000Z-9f2c4a1b; drop table stage.chart_songs'],
    ['chartId', "global'--"],
    ['chartId', 'Global'],
    ['isoDate', "2026-11-20' or 1=1 --"],
    ['isoDate', '2026-02-30'],
    ['roleArn', "arn:aws:iam::123456789012:role/x' credentials 'aws_access_key_id=…"],
    ['lakeKey', "raw/chart_songs/date=2026-11-20/chart=g/a.csv\n'; drop table x; --"],
    ['lakeKey', 'control/locks/transform.json'],
    ['lakeKey', 'raw/chart_songs/date=2026-13-45/chart=g/a.csv'],
    ['lakeKey', 'tables/users/date=2026-11-20/chart=g/a.csv'],
    ['lakeKey', 'tables/song_artists/date=2026-02-30/chart=g/part-1.csv'],
    ['bucket', "lake' iam_role 'x"],
    ['copyManifestKey', 'raw/chart_songs/date=2026-11-20/chart=g/chart_songs.csv'],
    ['copyManifestKey', lakeKeys.copyManifest('2026-11-20', 'global', runId, 'users')],
    ['copyManifestKey', lakeKeys.copyManifest('2026-11-20', 'global', "r1234567' or '1'='1", 'chart_songs')],
    ['copyManifestKey', lakeKeys.copyManifest('2026-11-20', 'Global', runId, 'chart_songs')],
    ['copyManifestKey', lakeKeys.copyManifest('2026-02-30', 'global', runId, 'chart_songs')],
    ['copyManifestKey', `${lakeKeys.copyManifest('2026-11-20', 'global', runId, 'chart_songs')}.bak`],
  ] as const)('refuses a %s that did not come through our schemas: %j', (kind, value) => {
    expect(() => redshiftLiteral(kind, value)).toThrow(InvalidRecordError);
    expect(() => redshiftLiteral(kind, value)).toThrow(
      new RegExp(`refusing to embed .* in SQL as a ${kind}: `),
    );
  });

  it('refuses what is not a string at all', () => {
    expect(() => redshiftLiteral('runId', 42)).toThrow(/refusing to embed 42 in SQL as a runId/);
    expect(() => redshiftLiteral('chartId', null)).toThrow(InvalidRecordError);
  });

  it('doubles quotes, and backslashes too (Redshift reads a backslash in a literal as an escape)', () => {
    expect(redshiftLiteral('lakeKey', "raw/chart_songs/date=2026-11-20/chart=x/it's \\ “ok” ✓.csv")).toBe(
      "'raw/chart_songs/date=2026-11-20/chart=x/it''s \\\\ “ok” ✓.csv'",
    );
  });
});

describe('Kind: lakeKey', () => {
  it.each([
    lakeKeys.chartCsv('2026-11-20', 'global'),
    lakeKeys.attributesCsv('2026-11-20', 'global', 'part-0123456789abcdef'),
    lakeKeys.artistsCsv('2026-11-20', 'global', 'part-0123456789abcdef'),
    // A day written before each dataset had its folder under tables/ is COPYed from its old keys.
    legacyLakeKeys.chartCsv('2026-11-20', 'global'),
    legacyLakeKeys.attributesCsv('2026-11-20', 'global', 'part-0123456789abcdef'),
  ])('admits a file a load COPYs: %s', (key) => {
    expect(redshiftLiteral('lakeKey', key)).toBe(`'${key}'`);
  });
});

describe('Kind: copyManifestKey', () => {
  it.each(stageTableNames)('admits the manifest key lakeKeys builds for %s', (table) => {
    const key = lakeKeys.copyManifest('2026-11-20', 'top-50-fr', runId, table);
    expect(key).toBe(`control/copy-manifests/date=2026-11-20/chart=top-50-fr/run=${runId}/${table}.manifest`);
    expect(redshiftLiteral('copyManifestKey', key)).toBe(`'${key}'`);
  });
});

describe('Function: s3Uri', () => {
  it('gives a lake key as it is, not URL-encoded', () => {
    const key = 'raw/chart_songs/date=2026-11-20/chart=global/a b+c%20é.csv';
    expect(s3Uri('chartflow-lake', key)).toBe(`s3://chartflow-lake/${key}`);
  });

  it('checks the key against the kind it is said to be', () => {
    const manifest = lakeKeys.copyManifest('2026-11-20', 'global', runId, 'song_artists');
    expect(s3Uri('chartflow-lake', manifest, 'copyManifestKey')).toBe(`s3://chartflow-lake/${manifest}`);
    expect(() => s3Uri('chartflow-lake', manifest)).toThrow(/as a lakeKey: not a table or raw lake key/);
    expect(() =>
      s3Uri('chartflow-lake', lakeKeys.chartCsv('2026-11-20', 'global'), 'copyManifestKey'),
    ).toThrow(/as a copyManifestKey: not a COPY manifest key/);
  });
});

describe('Function: s3UriLiteral', () => {
  it('embeds a lake key with Unicode, spaces and a quote as it is, quote doubled', () => {
    expect(
      s3UriLiteral(
        'chartflow-lake',
        "raw/song_attributes/date=2026-11-20/chart=global/Sigur Rós' 'Hoppípolla'.csv",
      ),
    ).toBe(
      "'s3://chartflow-lake/raw/song_attributes/date=2026-11-20/chart=global/Sigur Rós'' ''Hoppípolla''.csv'",
    );
  });

  it('refuses a bucket or key that is not ours', () => {
    expect(() => s3UriLiteral('Not_A_Bucket', 'raw/chart_songs/date=2026-11-20/chart=g/a.csv')).toThrow(
      /as a bucket: not an S3 bucket name/,
    );
    expect(() => s3UriLiteral('lake', '../raw/chart_songs/date=2026-11-20/chart=g/a.csv')).toThrow(
      /as a lakeKey: not a table or raw lake key/,
    );
  });
});
