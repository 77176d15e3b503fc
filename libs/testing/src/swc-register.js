// Runs a service's TypeScript sources in a child process the way Jest runs them: SWC with
// decorator metadata (Nest's DI needs it; tsx/esbuild does not emit it) and the tsconfig aliases.
// Usage: node -r ./swc-register.js apps/fcm-dispatcher/src/main.ts
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { transformSync } = require('@swc/core');
const tsconfigPaths = require('tsconfig-paths');

const root = resolve(__dirname, '../../../..');
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
