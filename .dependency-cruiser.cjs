// Import circles between files, checked as a step of `npm run lint` (dependency-cruiser).
// Type-only imports count (tsPreCompilationDeps): a circle closed by `import type` is still two
// files that cannot be read, moved or layered one without the other. The layer rules themselves
// (shared/ → nothing above it, services apart from each other) are ESLint's, in eslint.config.js;
// docs/architecture.md, "Folders, and what may import what", explains both.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-import-circles',
      severity: 'error',
      comment:
        'Move what both sides need into a third file (docs/architecture.md, "Folders, and what may import what").',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.venv|\\.venv-moto|dbt|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
