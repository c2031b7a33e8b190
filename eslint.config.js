import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';
import ts from 'typescript';

// The layering of docs/architecture.md ("Folders, and what may import what"): shared/ is the
// bottom, a service stands on shared/ alone, and infra/ (composition roots, adapters, the local
// runtime, the sandbox) stands on everything. test/, bench/ and bin/ are outside the layers.
const layeredCode = ['shared/**/*.ts', 'services/**/*.ts', 'infra/**/*.ts'];
// Where a circle between files is refused: everything that ships or runs, not the tests.
const acyclicCode = [...layeredCode, 'bin/**/*.js', 'bench/**/*.ts'];

const root = import.meta.dirname;
// Our imports are NodeNext `.js` specifiers of `.ts` files: TypeScript's own resolution, with
// tsconfig.json's options, is the one that maps them as tsc does.
const compilerOptions = ts.parseJsonConfigFileContent(
  ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile).config,
  ts.sys,
  root,
).options;
const resolutionCache = ts.createModuleResolutionCache(root, (name) => name, compilerOptions);

/** The repository's own file an import names; undefined for a package or a name that does not resolve. */
function ownFileOf(specifier, importer) {
  const resolved = ts.resolveModuleName(
    specifier,
    importer,
    compilerOptions,
    ts.sys,
    resolutionCache,
  ).resolvedModule;
  if (resolved === undefined || resolved.isExternalLibraryImport) return undefined;
  const file = path.resolve(resolved.resolvedFileName);
  const inside = file.startsWith(root + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`);
  return inside ? file : undefined;
}

// A file's imports, type-only ones included, read with TypeScript's scanner (no full parse);
// kept while the file's modification time stays the same.
const importsByFile = new Map();
function importsOf(file) {
  const modified = statSync(file).mtimeMs;
  const known = importsByFile.get(file);
  if (known?.modified === modified) return known.targets;
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = [...new Set(importedFiles.map((imported) => ownFileOf(imported.fileName, file)))].filter(
    Boolean,
  );
  importsByFile.set(file, { modified, targets });
  return targets;
}

/** The shortest chain of imports that leads from `start` back to `goal` (breadth first), or undefined. */
function chainBack(start, goal) {
  const reachedFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of importsOf(file)) {
      if (next === goal) {
        const chain = [file];
        while (reachedFrom.get(chain[0]) !== undefined) chain.unshift(reachedFrom.get(chain[0]));
        return chain;
      }
      if (!reachedFrom.has(next)) {
        reachedFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

// No circles between files, type-only imports included. import-x's no-cycle skips `import type`
// by design, and a circle closed by a type import is still two files that cannot be understood,
// moved or layered one without the other; so the check is ours, on TypeScript's resolution.
const noImportCircles = {
  meta: {
    type: 'problem',
    docs: { description: 'Refuse an import that closes a circle of imports between files.' },
    schema: [],
    messages: {
      circle:
        'Import circle: {{ chain }}. Move what both sides need into a third file (docs/architecture.md, "Folders, and what may import what").',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    function check(node) {
      if (node.source?.type !== 'Literal' || typeof node.source.value !== 'string') return;
      const target = ownFileOf(node.source.value, file);
      if (target === undefined || target === file) return;
      const chain = chainBack(target, file);
      if (chain === undefined) return;
      const names = [file, ...chain, file].map((each) => path.relative(root, each));
      context.report({ node: node.source, messageId: 'circle', data: { chain: names.join(' → ') } });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      '.venv-moto/',
      '.chartflow/',
      'dbt/',
      '.serverless/',
      '.esbuild/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportDefaultDeclaration',
          message: 'Named exports only (docs/architecture.md, "Folders, and what may import what").',
        },
      ],
    },
  },
  {
    // Tools load their config files through a default export.
    files: ['*.config.{js,ts}'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // The layers. Patterns match whole paths from the repository's root (partialMatch: false), so
    // that test/services/… is never taken for services/…; a service's name is captured to tell a
    // service's own files from another's. Re-exports and dynamic imports cross layers as surely as
    // imports do, so they are checked too.
    files: layeredCode,
    plugins: { boundaries },
    settings: {
      'boundaries/elements': [
        { type: 'shared', partialMatch: false, pattern: 'shared' },
        { type: 'service', partialMatch: false, pattern: 'services/*', capture: ['service'] },
        { type: 'infra', partialMatch: false, pattern: 'infra' },
      ],
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          policies: [
            {
              from: { element: { type: 'shared' } },
              disallow: { to: { element: { types: ['service', 'infra'] } } },
              message:
                'shared/ is the bottom layer: it never imports services/ or infra/ (docs/architecture.md, "Folders, and what may import what").',
            },
            {
              from: { element: { type: 'service' } },
              disallow: { to: { element: { type: 'infra' } } },
              message:
                'A service never imports infra/: adapters and composition roots wire the service, not the other way round (docs/architecture.md, "Folders, and what may import what").',
            },
            {
              from: { element: { type: 'service' } },
              disallow: {
                to: {
                  element: { type: 'service', captured: { service: '!{{ from.element.captured.service }}' } },
                },
              },
              message:
                'services/{{ from.element.captured.service }} imports services/{{ to.element.captured.service }}: services never import each other; what both need belongs in shared/ (docs/architecture.md, "Folders, and what may import what").',
            },
          ],
        },
      ],
    },
  },
  {
    files: acyclicCode,
    plugins: { chartflow: { rules: { 'no-import-circles': noImportCircles } } },
    rules: { 'chartflow/no-import-circles': 'error' },
  },
  {
    // A service's core receives ports: it never imports an AWS SDK, DuckDB or pg. (Adapters, in
    // infra/adapters/, are already out of a service's reach by the layers above.)
    files: ['services/**/*.ts'],
    ignores: ['services/**/handler.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', '@duckdb/*', 'pg', 'pg-copy-streams'],
              message:
                'A service\'s core knows ports only; the SDK or driver belongs in an adapter under infra/adapters/ (docs/architecture.md, "Ports and adapters").',
            },
          ],
        },
      ],
    },
  },
  {
    // Only the config module reads the environment.
    files: ['services/**/*.ts', 'shared/**/*.ts'],
    ignores: ['shared/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through shared/config.' },
      ],
    },
  },
);
