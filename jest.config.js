/**
 * One jest run for every kind of test:
 *   *.spec.ts      unit tests beside the code, no I/O
 *   *.int-spec.ts  integration tests on real Postgres (one database per test file)
 *   *.e2e-spec.ts  whole processes: the API and executors over HTTP
 * test/support/global-setup.ts starts Postgres once and migrates a template database.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  // Transpile only: type checking is `npm run typecheck`'s job, and doing it here would
  // make every test file pay for the whole program.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  moduleNameMapper: {
    // The REST client alone, for the CLI (without the gRPC half of the SDK).
    '^@danube/sdk/rest-client$': '<rootDir>/libs/sdk/src/rest-client',
    '^@danube/(.*)$': '<rootDir>/libs/$1/src',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/json-summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 60_000,
  slowTestThreshold: 20,
};
