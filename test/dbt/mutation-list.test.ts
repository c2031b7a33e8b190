import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMutation, countOccurrences, dbtMutations } from '../../bin/dbt-mutations.js';
import { dbtSection, replaceDbtSection, type MutationResult } from '../../bin/dbt-mutation-report.js';
import { repoRoot } from './dbt-cli.js';

// The list `npm run mutation:dbt` applies (bin/dbt-mutations.ts), checked cheaply: without running
// dbt, every snippet must still be in its model exactly once, so the list cannot silently go stale.
const model = (file: string): string => readFileSync(path.join(repoRoot, 'dbt', file), 'utf8');

describe('the dbt mutation list', () => {
  it.each(dbtMutations.map((m) => [m.id, m] as const))(
    '%s: its snippet is found exactly once in its model, and the edit changes it',
    (_id, mutation) => {
      const text = model(mutation.file);
      expect(countOccurrences(text, mutation.original)).toBe(1);
      const mutated = applyMutation(text, mutation);
      expect(mutated).not.toBe(text);
      expect(mutated.length - text.length).toBe(mutation.replacement.length - mutation.original.length);
    },
  );

  it('names each mutation once, and gives every expected survivor a reason', () => {
    const ids = dbtMutations.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const mutation of dbtMutations.filter((m) => m.equivalent !== undefined)) {
      expect(mutation.equivalent?.length, mutation.id).toBeGreaterThan(20);
    }
  });

  it('covers the gap rule, the run columns, the incremental merge, SCD2 and the chart runs mart', () => {
    const areas = new Set(dbtMutations.map((m) => m.area));
    expect([...areas].sort()).toEqual(
      ['SCD2', 'chart runs mart', 'gap rule', 'incremental merge', 'run columns'].sort(),
    );
  });

  it('refuses a snippet found twice or not at all, naming the mutation', () => {
    const mutation = { ...dbtMutations[0]!, original: 'x = 1' };
    expect(() => applyMutation('where x = 1 or x = 1', mutation)).toThrow(
      `mutation ${mutation.id}: its original snippet is found 2 times`,
    );
    expect(() => applyMutation('where y = 2', mutation)).toThrow('found 0 times');
    expect(applyMutation('where x = 1', { ...mutation, replacement: 'x >= 1' })).toBe('where x >= 1');
  });
});

describe('the dbt section of docs/mutation.md', () => {
  const results: MutationResult[] = [
    { mutation: dbtMutations.find((m) => !m.equivalent)!, status: 'caught', killedBy: ['a_unit_test'] },
    { mutation: dbtMutations.find((m) => m.equivalent)!, status: 'survived', killedBy: [] },
    { mutation: dbtMutations.find((m) => m.mergeScenario)!, status: 'caught', killedBy: ['merge scenario: x'] },
  ];
  const section = dbtSection(results);

  it('gives the figure and a row for each mutation', () => {
    expect(section).toMatch(/^## dbt\n/);
    expect(section).toContain('**2/3 caught** (1 by the dbt unit tests, 1 by the merge scenario)');
    expect(section).toContain('of the 1 others, 1 equivalent, 0 unexplained');
    expect(section).toContain('| `a_unit_test` |');
    expect(section).toContain('| merge scenario: x |');
    expect(section).toContain(results[1]!.mutation.equivalent!.slice(0, 40));
    expect(section.split('\n').filter((line) => line.startsWith('| ') && line.includes('| `'))).toHaveLength(3);
  });

  it('replaces only its own section, and keeps the sections around it', () => {
    const before = '# Mutation testing\n\nIntro.\n\n## StrykerJS\n\nTheirs.\n\n## dbt\n\nOld.\n\n## Later\n\nKept.\n';
    const after = replaceDbtSection(before, section);
    expect(after).toContain('## StrykerJS\n\nTheirs.\n\n## dbt\n');
    expect(after).not.toContain('Old.');
    expect(after).toContain('\n\n## Later\n\nKept.\n');
    expect(replaceDbtSection('# Mutation testing\n\n## StrykerJS\n\nTheirs.\n', section)).toBe(
      `# Mutation testing\n\n## StrykerJS\n\nTheirs.\n\n${section}`,
    );
    expect(replaceDbtSection(undefined, section)).toMatch(/^# Mutation testing\n[\s\S]*\n## dbt\n/);
  });
});
