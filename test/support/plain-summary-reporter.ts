import path from 'node:path';
import type { SerializedError } from '@vitest/utils';
import type { Reporter, TestModule } from 'vitest/node';

const stackLines = 6;

const relative = (file: string) => path.relative(process.cwd(), file);

/** One error in a few plain lines: its name and message, then the top of its stack. */
const describeError = (error: SerializedError): string => {
  const head = `${error.name ?? 'Error'}: ${error.message}`;
  const stack = (error.stack ?? '')
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, stackLines)
    .map((line) => `    ${line.trim()}`);
  return [head, ...stack].join('\n');
};

/**
 * Ends the run with plain lines CI reads, after vitest's coloured report: every failed test and
 * every unhandled error with its message and where it came from (CI may keep only the end of the
 * output), then the closing line "N passed, N failed, N skipped".
 */
export class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly SerializedError[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const lines: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') {
          failed += 1;
          lines.push(`failed: ${relative(module.moduleId)} > ${test.fullName}`);
          for (const error of result.errors ?? []) lines.push(describeError(error));
        } else skipped += 1;
      }
      for (const error of module.errors()) {
        lines.push(`error in ${relative(module.moduleId)} (outside its tests)`, describeError(error));
      }
    }
    for (const error of unhandledErrors) {
      const origin =
        typeof error.VITEST_TEST_PATH === 'string' ? ` while ${relative(error.VITEST_TEST_PATH)} ran` : '';
      lines.push(`unhandled error${origin}`, describeError(error));
    }
    const details = lines.length > 0 ? `\n${lines.join('\n')}\n` : '';
    process.stdout.write(`${details}\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

export { PlainSummaryReporter as default };
