import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

// The layering of docs/architecture.md ("Folders, and what may import what"): shared/ is the
// bottom, a service stands on shared/ alone, and infra/ (composition roots, adapters, the local
// runtime, the sandbox) stands on everything. test/, bench/ and bin/ are outside the layers.
const layeredCode = ['shared/**/*.ts', 'services/**/*.ts', 'infra/**/*.ts'];
// Circles between files are refused by dependency-cruiser (.dependency-cruiser.cjs), a step of
// `npm run lint`: it counts type-only imports, which import-x's no-cycle skips by design.

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
      'dist/',
      'coverage/',
      '.stryker-tmp*/',
      'reports/',
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
        {
          // esbuild keeps all of zod for `import { z }`, only what is used for `import * as z`.
          selector: "ImportDeclaration[source.value=/^zod/] > ImportSpecifier[imported.name='z']",
          message:
            "Import zod as a namespace, `import * as z from 'zod'`, so that the Lambda bundles tree-shake it (infra/aws/build/esbuild-plugins.cjs).",
        },
      ],
    },
  },
  {
    // Tools load their config files through a default export.
    files: ['*.config.{js,mjs,ts}'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['.dependency-cruiser.cjs', 'infra/aws/build/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
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
    // A function a reader can hold in mind: a longer one says why in the directive that allows it
    // (`// eslint-disable-next-line max-lines-per-function -- <why>`).
    files: [...layeredCode, 'bin/**/*.{js,ts}', 'bench/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
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
