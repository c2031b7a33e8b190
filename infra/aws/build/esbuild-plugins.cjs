// esbuild plugins for the Lambda bundles (serverless.yml: custom.esbuild.plugins).
const { readFile } = require('node:fs/promises');

/**
 * esbuild keeps all of zod, locales included (about 450 KB minified), when a module imports zod's
 * `z` namespace by name (`import { z } from 'zod'`); with `import * as z from 'zod'` it keeps only
 * what is used (about 85 KB): colinhacks/zod#6597. Our own code imports the namespace (an ESLint
 * rule holds it); Powertools' parser schemas import `{ z }`, so their imports are rewritten as they
 * are bundled. Other names imported beside `z` keep their own import.
 */
const zodNamespaceImport = {
  name: 'zod-namespace-import',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-lambda-powertools[\\/]parser[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source.replace(/import\s*\{([^}]*)\}\s*from\s*(['"])zod\2;?/g, (statement, names) => {
        const specifiers = names
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (!specifiers.includes('z')) return statement;
        const others = specifiers.filter((s) => s !== 'z');
        const namespace = "import * as z from 'zod';";
        return others.length > 0 ? `${namespace} import { ${others.join(', ')} } from 'zod';` : namespace;
      });
      return { contents, loader: 'js' };
    });
  },
};

module.exports = [zodNamespaceImport];
