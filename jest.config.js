/**
 * One jest run for every kind of test:
 *   *.spec.ts      unit tests beside the code, no I/O
 *   *.int-spec.ts  integration tests on real Postgres (one database per test file)
 *   *.e2e-spec.ts  whole processes: the API and executors over HTTP
 * test/support/global-setup.ts starts Postgres once and migrates a template database.
 */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: { '^@danube/(.*)$': '<rootDir>/libs/$1/src' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/json-summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 60_000,
  slowTestThreshold: 20,
};
