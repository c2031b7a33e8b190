import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigError, InvalidRecordError } from '../../shared/errors.js';
import { parseJsonOrThrow, parseOrThrow } from '../../shared/parse.js';

const schema = z.object({ runId: z.string(), rows: z.object({ chart_songs: z.number() }) });

describe('Function: parseOrThrow', () => {
  it('returns the parsed value', () => {
    expect(parseOrThrow(schema, { runId: 'r', rows: { chart_songs: 2 } }, 'manifest')).toEqual({
      runId: 'r',
      rows: { chart_songs: 2 },
    });
  });

  it('names what was parsed and every issue with its path, in zod words, on one line', () => {
    const error = (() => {
      try {
        parseOrThrow(schema, { runId: 1, rows: { chart_songs: 'x' } }, 'manifest raw/a.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect(error?.message).toBe(
      'manifest raw/a.json: ✖ Invalid input: expected string, received number → at runId; ' +
        '✖ Invalid input: expected number, received string → at rows.chart_songs',
    );
    expect(error?.cause).toBeInstanceOf(z.ZodError);
  });

  it('throws the error class it is given', () => {
    expect(() => parseOrThrow(schema, null, 'options', ConfigError)).toThrow(ConfigError);
  });
});

describe('Function: parseJsonOrThrow', () => {
  it('says when the text is not JSON', () => {
    expect(() => parseJsonOrThrow(schema, '{', 'batch.json')).toThrow(/^batch\.json: not JSON \(/);
  });

  it('parses JSON text with the schema', () => {
    expect(() => parseJsonOrThrow(schema, '{"runId":"r"}', 'batch.json')).toThrow(
      'batch.json: ✖ Invalid input: expected object, received undefined → at rows',
    );
  });
});
