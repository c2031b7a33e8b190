import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../shared/format-duration.js';

describe('Function: formatDuration (waits as a person reads them)', () => {
  it.each([
    [850, '850 ms'],
    [4_500, '4.5 s'],
    [42_000, '42 s'],
    [200_000, '3 min 20 s'],
    [3_599_999, '1 h'],
    [5_400_000, '1 h 30 min'],
    // A daily quota's Retry-After, counted down by a second: the wait the issue saw as "86399000 ms".
    [86_399_000, '24 h'],
    [183_600_000, '2 d 3 h'],
  ])('tells %i ms as "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
