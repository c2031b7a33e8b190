import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as configModule from '../../../shared/config/config.js';
import { parseLocalConfig } from '../../../shared/config/config.js';

// The configuration module, with what it imports, installed where no chartflow repository is
// above it: only a directory named dbt, without a dbt project. It is imported as this file loads,
// as the module itself is, so that only what a test calls counts as reached by the test.
const repository = path.resolve(import.meta.dirname, '../../..');
const elsewhere = mkdtempSync(path.join(tmpdir(), 'chartflow-elsewhere-'));
for (const file of ['shared/config/config.ts', 'shared/errors.ts', 'shared/http/rate-limiter.ts']) {
  cpSync(path.join(repository, file), path.join(elsewhere, file));
}
mkdirSync(path.join(elsewhere, 'dbt'));
symlinkSync(path.join(repository, 'node_modules'), path.join(elsewhere, 'node_modules'));
const outside = (await import(
  pathToFileURL(path.join(elsewhere, 'shared/config/config.ts')).href
)) as typeof configModule;

afterAll(() => {
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('The repository root a local configuration names', () => {
  it('is the directory that holds the dbt project', () => {
    expect(parseLocalConfig({}, '/srv/chartflow-work').projectRoot).toBe(repository);
  });

  it('is missing outside a chartflow repository, and the error says where it looked', () => {
    expect(() => outside.parseLocalConfig({}, '/srv/chartflow-work')).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: `no chartflow repository above ${path.join(elsewhere, 'shared', 'config')}.`,
      }),
    );
  });
});
