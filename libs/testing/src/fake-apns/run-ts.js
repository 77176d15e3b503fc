// Runs a TypeScript service entry point in ONE node process (so a test can SIGKILL exactly it):
//   node -r tsconfig-paths/register -r ./libs/testing/src/fake-apns/run-ts.js apps/<svc>/src/main.ts
// SWC compiles each file on load with decorator metadata, which NestJS dependency injection needs
// and which tsx (esbuild) does not emit.
/* eslint-disable */
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compile(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
