import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../shared/errors.js';
import { decodeS3Key, encodeS3Key } from '../../../shared/events/s3-keys.js';

describe('Function: encodeS3Key', () => {
  it.each([
    ['red flower.jpg', 'red+flower.jpg'],
    [
      'raw/chart_songs/date=2025-01-02/chart=global/x.csv',
      'raw/chart_songs/date%3D2025-01-02/chart%3Dglobal/x.csv',
    ],
    ['c++/a+b.csv', 'c%2B%2B/a%2Bb.csv'],
    ["copy (1) of it's!~*.csv", 'copy+%281%29+of+it%27s%21%7E*.csv'],
    ['logs/10:47:07.log', 'logs/10%3A47%3A07.log'],
    ['50%/é.csv', '50%25/%C3%A9.csv'],
  ])('encodes %j as S3 notifications do', (key, encoded) => {
    expect(encodeS3Key(key)).toBe(encoded);
  });
});

describe('Function: decodeS3Key', () => {
  it.each([
    'red flower.jpg',
    'raw/song_attributes/date=2025-01-02/chart=global/part-0123.song_attributes.csv',
    "a+b c%20d/%2F/é 🎵 שלום (1)~!*'.csv",
  ])('reads back %j from its encoded form', (key) => {
    expect(decodeS3Key(encodeS3Key(key))).toBe(key);
  });

  it('reads "+" as a space and "%2B" as a plus', () => {
    expect(decodeS3Key('a+b%2Bc')).toBe('a b+c');
  });

  it('refuses malformed percent-encoding with an InvalidRecordError naming the key', () => {
    expect(() => decodeS3Key('bad%E0%A4%A')).toThrow(InvalidRecordError);
    expect(() => decodeS3Key('bad%E0%A4%A')).toThrow(/bad%E0%A4%A/);
  });

  it('keeps the decoding error as the cause of its refusal', () => {
    expect(() => decodeS3Key('bad%E0%A4%A')).toThrow(
      expect.objectContaining({ cause: expect.any(URIError) }) as Error,
    );
  });
});
