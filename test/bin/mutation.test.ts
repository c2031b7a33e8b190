import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadStrykerConfig, matchScope, projectFiles, projectRoot } from '../../bin/mutation-scope.js';
import {
  beginMarker,
  endMarker,
  parseReport,
  replaceSection,
  summarize,
  tally,
  type MutationReport,
} from '../../bin/mutation-summary.js';
import { mergeReports, packedPathOf, packIncremental, unpackIncremental } from '../../bin/mutation.js';
import { mutationTests } from '../../vitest.mutation.config.js';

const files = projectFiles();
const config = await loadStrykerConfig();
const scope = matchScope(config.mutate, files);

/** Whether a TypeScript file has a statement Stryker could mutate (anything beyond imports and types). */
const hasRuntimeCode = (file: string): boolean => {
  const source = ts.createSourceFile(
    file,
    readFileSync(path.join(projectRoot, file), 'utf8'),
    ts.ScriptTarget.ES2023,
  );
  return source.statements.some(
    (statement) =>
      !ts.isInterfaceDeclaration(statement) &&
      !ts.isTypeAliasDeclaration(statement) &&
      !ts.isImportDeclaration(statement) &&
      !(ts.isExportDeclaration(statement) && statement.isTypeOnly),
  );
};

describe("the mutation run's scope (stryker.config.mjs)", () => {
  it.each(config.mutate.filter((pattern) => !pattern.startsWith('!')))(
    '%s matches files that exist',
    (pattern) => {
      expect(matchScope([pattern], files)).not.toEqual([]);
    },
  );

  it.each(config.mutate.filter((pattern) => pattern.startsWith('!')))(
    '%s leaves out a file the patterns before it take',
    (pattern) => {
      const before = config.mutate.slice(0, config.mutate.indexOf(pattern));
      expect(
        matchScope(before, files).length - matchScope([...before, pattern], files).length,
      ).toBeGreaterThan(0);
    },
  );

  it('holds TypeScript sources with code to mutate, never the sandbox, tests or type-only files', () => {
    expect(scope.length).toBeGreaterThan(50);
    expect(scope.filter((file) => !file.endsWith('.ts') || file.endsWith('.d.ts'))).toEqual([]);
    expect(scope.filter((file) => /^(infra\/sandbox|test|dbt|bench|bin)\//.test(file))).toEqual([]);
    expect(scope.filter((file) => !hasRuntimeCode(file))).toEqual([]);
  });

  it("takes every source of the issue's folders that has code", () => {
    const folders =
      /^(services|shared\/(lake|records|events|config|http|spotify|reccobeats|transform))\/.*\.ts$/;
    const left = files.filter((file) => folders.test(file) && hasRuntimeCode(file) && !scope.includes(file));
    expect(left).toEqual([]);
    expect(scope).toContain('infra/adapters/embedded/memory-queue.ts');
    expect(scope).toContain('infra/adapters/embedded/fs-object-store.ts');
  });

  it.each(mutationTests)("the mutation run's tests %s exist, none of them end-to-end", (pattern) => {
    const tests = matchScope([pattern], files);
    expect(tests).not.toEqual([]);
    expect(tests.filter((file) => /^test\/(e2e|chaos|dbt)\//.test(file))).toEqual([]);
  });
});

const at = (line: number) => ({ start: { line, column: 3 }, end: { line, column: 9 } });
const mutant = (status: string, line: number, replacement = 'true') => ({
  id: `${status}-${line}`,
  mutatorName: 'ConditionalExpression',
  replacement,
  status,
  location: at(line),
});
const report = (entries: Record<string, ReturnType<typeof mutant>[]>): MutationReport =>
  parseReport(
    {
      schemaVersion: '2',
      files: Object.fromEntries(
        Object.entries(entries).map(([file, mutants]) => [
          file,
          { language: 'typescript', source: '', mutants },
        ]),
      ),
      testFiles: {},
    },
    'test report',
  );

describe('the summary (bin/mutation-summary.ts)', () => {
  it("reckons Stryker's score: timeouts count as killed, no coverage as survived, errors not at all", () => {
    const mutants = [
      mutant('Killed', 1),
      mutant('Timeout', 2),
      mutant('Survived', 3),
      mutant('NoCoverage', 4),
      mutant('RuntimeError', 5),
    ];
    const { files: parsed } = report({ 'shared/lake/a.ts': mutants });
    const result = tally([parsed['shared/lake/a.ts']!.mutants]);
    expect(result.score).toBe(50);
    expect(result.coveredScore).toBeCloseTo(200 / 3);
  });

  it('says a report of part of the scope is a slice, and lists what survived with file:line and replacement', () => {
    const text = summarize({
      report: report({
        'shared/lake/a.ts': [mutant('Killed', 1), mutant('Survived', 12, 'x | y')],
        'services/s/b.ts': [mutant('Killed', 2)],
      }),
      scope: ['shared/lake/a.ts', 'services/s/b.ts', 'shared/lake/c.ts'],
      date: new Date('2026-12-07T14:30:00Z'),
      commit: 'abc1234',
      reportPath: 'reports/stryker-incremental.json',
    });
    expect(text).toContain('2026-12-07 14:30 UTC, at commit `abc1234`');
    expect(text).toContain('A slice, not the whole scope');
    expect(text).toContain("2 of the scope's 3 files");
    expect(text).toContain('Not measured:\n\n- `shared/lake/c.ts`');
    expect(text).not.toContain('- `services/s/b.ts`');
    expect(text).toContain('| shared/lake/a.ts:12:3 | Survived | ConditionalExpression | ` x \\| y ` |');
    expect(text).toMatch(
      /\| \*\*`shared\/lake`\*\* \| 1 \| 1 \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| 50\.0% \| 50\.0% \| ≥ 80%: missed \|/,
    );
    expect(text).toMatch(
      /\| \*\*services' cores \(`services\/`\)\*\* \| 1 \| 1 \| .* \| 100\.0% \| 100\.0% \| ≥ 80%: met \|/,
    );
  });

  it('lists the mutants a comment marks equivalent, with the reason, apart from the static ones not run, and leaves both out of the score', () => {
    const ignored = {
      ...mutant('Ignored', 7, 'false'),
      statusReason: 'the key is written once, so | and || read the same',
    };
    const text = summarize({
      report: report({
        'shared/lake/a.ts': [
          mutant('Killed', 1),
          ignored,
          { ...mutant('Ignored', 9), statusReason: 'Static mutant (and "ignoreStatic" was enabled)' },
        ],
      }),
      scope: ['shared/lake/a.ts'],
      date: new Date('2026-12-07T14:30:00Z'),
      commit: 'abc1234',
      reportPath: 'reports/stryker-incremental.json',
    });
    expect(text).toContain(
      '| shared/lake/a.ts:7:3 | ConditionalExpression | the key is written once, so \\| and \\|\\| read the same |',
    );
    expect(text).toMatch(/\| \*\*`shared\/lake`\*\* \| 1 \| 1 \| 0 \| 0 \| 0 \| 0 \| 1 \| 1 \| 100\.0% \|/);
    expect(text).not.toContain('shared/lake/a.ts:9:3');
  });

  it('replaces only what stands between its markers', () => {
    const document = `# Mutation testing\n\nIntro.\n\n${beginMarker}\n\nold\n\n${endMarker}\n\n## dbt\n\nTheirs.\n`;
    const replaced = replaceSection(document, 'new');
    expect(replaced).toBe(
      `# Mutation testing\n\nIntro.\n\n${beginMarker}\n\nnew\n\n${endMarker}\n\n## dbt\n\nTheirs.\n`,
    );
    expect(replaceSection('# Mutation testing\n', 'first')).toBe(
      `# Mutation testing\n\n${beginMarker}\n\nfirst\n\n${endMarker}\n`,
    );
    expect(() => replaceSection(`${endMarker}\n${beginMarker}`, 'x')).toThrow(/markers/);
  });
});

describe('the incremental file across narrower runs (bin/mutation.ts)', () => {
  it("keeps the previous run's files this run did not mutate, while they are in the scope", () => {
    const previous = report({
      'shared/lake/a.ts': [mutant('Survived', 1)],
      'shared/lake/b.ts': [mutant('Killed', 1)],
      'shared/gone.ts': [mutant('Killed', 1)],
    });
    const current = report({ 'shared/lake/a.ts': [mutant('Killed', 1)] });
    const merged = mergeReports(previous, current, ['shared/lake/a.ts', 'shared/lake/b.ts']);
    expect(Object.keys(merged.files).sort()).toEqual(['shared/lake/a.ts', 'shared/lake/b.ts']);
    expect(merged.files['shared/lake/a.ts']!.mutants[0]!.status).toBe('Killed');
    expect(mergeReports(undefined, current, [])).toBe(current);
  });
});

describe('the incremental file, committed gzipped (bin/mutation.ts)', () => {
  it('packs after a run and unpacks when the plain file is missing or older, never over a newer one', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'chartflow-incremental-'));
    try {
      const file = path.join(folder, 'stryker-incremental.json');
      const body = JSON.stringify(report({ 'shared/lake/a.ts': [mutant('Killed', 1)] }));
      writeFileSync(file, body);
      packIncremental(file);
      expect(gunzipSync(readFileSync(packedPathOf(file))).toString()).toBe(body);

      rmSync(file);
      unpackIncremental(file);
      expect(readFileSync(file, 'utf8')).toBe(body);

      // A run's plain file, newer than the packed one, is kept.
      writeFileSync(file, 'newer');
      unpackIncremental(file);
      expect(readFileSync(file, 'utf8')).toBe('newer');
      // An older one is replaced by what was committed.
      utimesSync(file, new Date(0), new Date(0));
      unpackIncremental(file);
      expect(readFileSync(file, 'utf8')).toBe(body);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('does nothing without a packed file', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'chartflow-incremental-'));
    try {
      const file = path.join(folder, 'stryker-incremental.json');
      unpackIncremental(file);
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
