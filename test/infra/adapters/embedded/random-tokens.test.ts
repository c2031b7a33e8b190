import { describe, expect, it } from 'vitest';
import { randomToken } from '../../../../infra/adapters/embedded/random-tokens.js';

describe('Function: randomToken', () => {
  it('gives the bytes asked for, in the encoding asked for', () => {
    expect(randomToken(8, 'hex')).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(randomToken(24, 'base64'), 'base64')).toHaveLength(24);
  });

  it('never repeats a token, across many refills of its pool', () => {
    const tokens = Array.from({ length: 5_000 }, () => randomToken(24, 'base64'));

    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('refuses more bytes than its pool holds', () => {
    expect(() => randomToken(4097, 'hex')).toThrow(RangeError);
  });
});
