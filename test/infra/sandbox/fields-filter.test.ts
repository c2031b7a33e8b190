import { describe, expect, it } from 'vitest';
import { FieldsSyntaxError, parseFields, selectFields } from '../../../infra/sandbox/fields-filter.js';

const page = {
  href: 'h',
  total: 2,
  limit: 50,
  items: [
    {
      added_at: '2026-03-02',
      added_by: { id: 'u1', type: 'user' },
      track: {
        name: 'A',
        href: 'ta',
        album: { name: 'X', href: 'xa', images: [1], external_urls: { s: 'x' } },
      },
    },
    { added_at: '2026-03-03', added_by: null, track: null },
  ],
};

describe('Function: parseFields and selectFields (Spotify’s fields filter)', () => {
  const select = (fields: string) => selectFields(page, parseFields(fields));

  it('keeps top-level fields', () => {
    expect(select('total,limit')).toEqual({ total: 2, limit: 50 });
  });

  it('applies a parenthesised list within each element of a list, a dotted field within an object', () => {
    expect(select('items(added_at,added_by.id)')).toEqual({
      items: [
        { added_at: '2026-03-02', added_by: { id: 'u1' } },
        { added_at: '2026-03-03', added_by: null },
      ],
    });
  });

  it('drills down through nested parentheses', () => {
    expect(select('items(track(name,album(name)))')).toEqual({
      items: [{ track: { name: 'A', album: { name: 'X' } } }, { track: null }],
    });
  });

  it('leaves out what a list starting with ! names, and keeps the rest', () => {
    expect(select('items.track.album(!external_urls,images)')).toEqual({
      items: [{ track: { album: { name: 'X', href: 'xa' } } }, { track: null }],
    });
  });

  it('keeps what either of two mentions of a field keeps', () => {
    expect(select('items.track.name,items.track.href')).toEqual({
      items: [{ track: { name: 'A', href: 'ta' } }, { track: null }],
    });
  });

  it.each(['', 'items(', 'items)', 'a,,b', 'a.', 'a(b))', 'a b', '!'])(
    'refuses %j, saying where',
    (fields) => {
      expect(() => parseFields(fields)).toThrow(FieldsSyntaxError);
      expect(() => parseFields(fields)).toThrow(/at character \d+/);
    },
  );
});
