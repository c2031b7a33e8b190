import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** Folders the tests run programs from, too large to copy into every sandbox. */
const linked = ['.venv', '.venv-moto'];

/**
 * Vitest's global set-up for mutation runs (vitest.mutation.config.ts). Stryker copies the project
 * into `.stryker-tmp/sandbox-…/` without the virtualenvs (stryker.config.mjs, ignorePatterns);
 * this links them from the checkout, so that the tests that start moto run there as they do in
 * the checkout instead of skipping. Outside a sandbox it does nothing.
 */
export const setup = (): void => {
  if (!/^sandbox-/.test(path.basename(root)) || path.basename(path.dirname(root)) !== '.stryker-tmp') return;
  const checkout = path.resolve(root, '..', '..');
  for (const name of linked) {
    const target = path.join(checkout, name);
    const link = path.join(root, name);
    if (!existsSync(target) || existsSync(link)) continue;
    try {
      symlinkSync(target, link, 'dir');
    } catch (error) {
      // The test runners of one run share the sandbox: another may have made the link meanwhile.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
};
