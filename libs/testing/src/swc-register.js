// Runs a service's TypeScript sources in ONE node process the way Jest compiles them (so a test can
// SIGKILL exactly it, and a benchmark measure it): SWC with decorator metadata (Nest's dependency
// injection needs it; tsx/esbuild does not emit it) and the tsconfig path aliases.
// Usage: node -r ./libs/testing/src/swc-register.js apps/<service>/src/main.ts
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { transformSync } = require('@swc/core');
const tsconfigPaths = require('tsconfig-paths');

const root = resolve(__dirname, '../../..');
const { compilerOptions } = JSON.parse(readFileSync(resolve(root, 'tsconfig.json'), 'utf8'));
tsconfigPaths.register({
  baseUrl: resolve(root, compilerOptions.baseUrl),
  paths: compilerOptions.paths,
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
