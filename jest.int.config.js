// Integration tests: real Kafka and PostgreSQL (local infra script, or testcontainers with Docker).
module.exports = {
  ...require('./jest.base.config'),
  testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/test/integration/global-setup.ts',
  globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
  testTimeout: 120000,
  // kafkajs leaves reconnect timers behind after disconnect; without this Jest can hang at the end.
  forceExit: true,
  slowTestThreshold: 30,
};
