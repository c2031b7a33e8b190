import { describe, expect, it } from 'vitest';
import { redshiftLiteral, s3UriLiteral } from '../../../../shared/adapters/aws/redshift-literal.js';
import { InvalidRecordError } from '../../../../shared/errors.js';

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
    ['bucket', "lake' iam_role 'x"],
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
      /as a lakeKey: not a raw lake key/,
    );
  });
});
