import { describe, expect, it } from 'vitest';
import { bindNamed } from '../../../../infra/adapters/sql/named-params.js';

describe('Function: bindNamed', () => {
  it('numbers distinct parameters in order of first use and reuses a repeated one', () => {
    const bound = bindNamed('select :a, :b, :a', { a: 1, b: 'x' }, (_n, i) => `$${i}`);
    expect(bound).toEqual({ sql: 'select $1, $2, $1', names: ['a', 'b'], values: [1, 'x'] });
  });

  it('leaves casts and string literals alone', () => {
    const bound = bindNamed("select '10:30' as t, x::date, :d", { d: '2026-01-01' }, (n) => `$${n}`);
    expect(bound.sql).toBe("select '10:30' as t, x::date, $d");
  });

  it('refuses a parameter without a value', () => {
    expect(() => bindNamed('select :nope', {}, (n) => n)).toThrow(':nope');
  });
});
