// Runs the service's TypeScript sources directly in Node for the HTTP benchmark: SWC compiles each
// file with decorator metadata (which Nest's dependency injection needs and tsx does not emit),
// and tsconfig-paths resolves the @app/* aliases. Used as `node -r ./bench/token-registry/swc-hook.js`.
const { transformSync } = require('@swc/core');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

require('tsconfig-paths').register({
  baseUrl: resolve(__dirname, '../..'),
  paths: require('../../tsconfig.json').compilerOptions.paths,
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
