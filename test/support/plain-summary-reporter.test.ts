import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import { PlainSummaryReporter } from './plain-summary-reporter.js';

/** A test module as the reporter reads it: its id, its tests' results and its own errors. */
const moduleOf = (
  file: string,
  tests: { fullName: string; state: 'passed' | 'failed' | 'skipped'; errors?: object[] }[],
  errors: object[] = [],
) =>
  ({
    moduleId: path.join(process.cwd(), file),
    children: {
      allTests: () =>
        tests.map((t) => ({ fullName: t.fullName, result: () => ({ state: t.state, errors: t.errors }) })),
    },
    errors: () => errors,
  }) as unknown as TestModule;

const printed = (modules: TestModule[], unhandled: object[] = []) => {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  new PlainSummaryReporter().onTestRunEnd(modules, unhandled as never);
  vi.restoreAllMocks();
  return chunks.join('');
};

describe('Class: PlainSummaryReporter', () => {
  afterEach(() => vi.restoreAllMocks());

  it('ends with the counts alone when everything passed', () => {
    const out = printed([
      moduleOf('test/a.test.ts', [
        { fullName: 'a', state: 'passed' },
        { fullName: 'b', state: 'skipped' },
      ]),
    ]);
    expect(out).toBe('\ntests: 1 passed, 0 failed, 1 skipped\n');
  });

  it('names each failed test, each error outside a test and each unhandled error, with message and stack top, before the counts', () => {
    const stack = ['Error: x', ...Array.from({ length: 8 }, (_, i) => `    at frame${i} (f.ts:${i}:1)`)].join(
      '\n',
    );
    const out = printed(
      [
        moduleOf(
          'test/b.test.ts',
          [
            {
              fullName: 'B > fails',
              state: 'failed',
              errors: [{ name: 'AssertionError', message: 'expected 1 to be 2', stack }],
            },
          ],
          [{ message: 'hook failed' }],
        ),
      ],
      [
        {
          name: 'error',
          message: 'terminating connection',
          stack,
          VITEST_TEST_PATH: path.join(process.cwd(), 'test/c.test.ts'),
        },
      ],
    );
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'failed: test/b.test.ts > B > fails',
      'AssertionError: expected 1 to be 2',
    ]);
    // The top six frames of each stack, not more (the hook's error has none).
    expect(lines.filter((l) => l.startsWith('    at frame'))).toHaveLength(12);
    expect(out).toContain('error in test/b.test.ts (outside its tests)\nError: hook failed\n');
    expect(out).toContain(
      'unhandled error while test/c.test.ts ran\nerror: terminating connection\n    at frame0',
    );
    expect(lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
  });
});
