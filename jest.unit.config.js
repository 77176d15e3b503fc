// Unit specs live next to the code they test and touch no network.
module.exports = {
  ...require('./jest.base.config'),
  testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
};
