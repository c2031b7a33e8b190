// The scope of `npm run mutation`, read from stryker.config.mjs and matched as Stryker matches it
// (minimatch, patterns in order, `!` removes): docs/mutation.md.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { minimatch } from 'minimatch';
import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.js';

export const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const strykerConfigSchema = z
  .object({
    mutate: z.array(z.string().min(1)).min(1),
    incrementalFile: z.string().min(1),
    jsonReporter: z.object({ fileName: z.string().min(1) }),
    tempDirName: z.string().min(1),
    vitest: z.object({ configFile: z.string().min(1) }),
  })
  .loose();

export type StrykerConfig = z.infer<typeof strykerConfigSchema>;

/** stryker.config.mjs's options this project's tools rely on, checked. */
export const loadStrykerConfig = async (root = projectRoot): Promise<StrykerConfig> => {
  const file = path.join(root, 'stryker.config.mjs');
  const module: unknown = await import(pathToFileURL(file).href);
  const exported = parseOrThrow(z.object({ default: z.unknown() }), module, file);
  return parseOrThrow(strykerConfigSchema, exported.default, file);
};

/** Folders never searched for files to mutate: installs, builds, state, Stryker's own. */
const skipped = new Set(['node_modules', '.git', '.venv', '.venv-moto', '.chartflow', 'dist', 'reports']);

/** Every file under the root, as a path relative to it with `/` separators, sorted. */
export const projectFiles = (root = projectRoot, tempDirName = '.stryker-tmp'): string[] => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!skipped.has(entry.name) && entry.name !== tempDirName && !entry.name.startsWith('.stryker-tmp'))
          walk(relative);
      } else if (entry.isFile()) files.push(relative);
    }
  };
  walk('');
  return files.sort();
};

/** The files the patterns select, in Stryker's way: each pattern adds its matches, or removes them after `!`. */
export const matchScope = (patterns: readonly string[], files: readonly string[]): string[] => {
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    for (const file of files) {
      if (!minimatch(file, glob, { dot: true })) continue;
      if (negated) selected.delete(file);
      else selected.add(file);
    }
  }
  return [...selected].sort();
};
