// Shared Jest settings: SWC compiles TypeScript (with decorator metadata, which NestJS DI needs)
// and the tsconfig path aliases map to the libraries' sources (`@app/<lib>`) and, for tests, to the
// services' sources (`@apps/<service>/...`).
const libs = [
  'contracts',
  'config',
  'kafka',
  'observability',
  'http',
  'testing',
  'dispatch',
  'database',
  'routing-rules',
];
const services = [
  'token-registry',
  'presence',
  'routing',
  'apns-dispatcher',
  'fcm-dispatcher',
  'delivery-reports',
];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: Object.fromEntries([
    ...libs.flatMap((lib) => [
      [`^@app/${lib}$`, `<rootDir>/libs/${lib}/src`],
      [`^@app/${lib}/(.*)$`, `<rootDir>/libs/${lib}/src/$1`],
    ]),
    ...services.map((svc) => [`^@apps/${svc}/(.*)$`, `<rootDir>/apps/${svc}/src/$1`]),
  ]),
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.local/', '<rootDir>/.tools/'],
};
